"""``lis ops …``: tokens for the ops API from the local issuer (dev and tests; production uses the OIDC provider)."""

from __future__ import annotations

from typing import Annotated

import typer

from app.domain.ops_access import OpsRole
from app.security.ops_dev_keys import DevTokenIssuer
from app.settings import settings

ops_cli = typer.Typer(no_args_is_help=True, help="The ops API: tokens from the local issuer (docs/OPS_API.md).")
token_cli = typer.Typer(no_args_is_help=True, help="Bearer tokens signed by the local issuer.")
ops_cli.add_typer(token_cli, name="token")


def local_issuer() -> DevTokenIssuer:
    """The issuer whose JWKS the workers read by default (``<data_dir>/ops``), made on first use."""
    return DevTokenIssuer(settings.ops_key_dir, issuer=settings.ops_issuer, audience=settings.ops_audience)


@token_cli.command("issue")
def token_issue(
    role: Annotated[OpsRole, typer.Option(help="What the holder may do.")],
    tenant: Annotated[list[str] | None, typer.Option(help="A tenant the token sees (repeatable).")] = None,
    property_id: Annotated[list[str] | None, typer.Option(
        "--property", help="Only this tenant/property of its tenants (repeatable; default: all of them).")] = None,
    subject: Annotated[str, typer.Option(help="Who holds it (the audit records' actor).")] = "dev-operator",
    ttl: Annotated[int, typer.Option(help="Seconds until it expires.", min=1, max=86400)] = 3600,
) -> None:
    """Print a signed token: `curl -H "Authorization: Bearer $(lis ops token issue --role platform-admin)" …`."""
    if role is not OpsRole.PLATFORM_ADMIN and not tenant:
        raise typer.BadParameter(f"a {role} token names at least one --tenant", param_hint="--tenant")
    for entry in property_id or []:
        if entry.split("/", 1)[0] not in (tenant or []) or "/" not in entry:
            raise typer.BadParameter(f"{entry!r} is not tenant/property of a --tenant", param_hint="--property")
    typer.echo(local_issuer().issue(subject=subject, role=role, tenants=tenant, properties=property_id, ttl_s=ttl))


@token_cli.command("rotate")
def token_rotate() -> None:
    """Make a new signing key; tokens signed with the previous ones verify until they expire."""
    typer.echo(f"new signing key {local_issuer().rotate()}; JWKS {settings.ops_key_dir / 'jwks.json'}")
