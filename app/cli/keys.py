"""``lis keys …``: the tenants' keys in the HSM (``LIS_KEY_STORE=pkcs11``; the local key store derives its own)."""

from __future__ import annotations

from typing import Annotated

import typer

from app.settings import settings

keys_cli = typer.Typer(no_args_is_help=True, help="Tenant keys in the HSM (LIS_KEY_STORE=pkcs11).")


@keys_cli.command("provision")
def keys_provision(tenant: Annotated[list[str], typer.Option(help="A tenant to give keys (repeatable).")]) -> None:
    """Make each tenant's key-encryption key and purpose secret in the HSM's token, unless they exist (they are
    made non-extractable: no one can read them out, and losing the token loses what they sealed)."""
    from app.security.pkcs11_keys import Pkcs11KeyStore

    keys = settings.keys()
    if not isinstance(keys, Pkcs11KeyStore):
        typer.echo("LIS_KEY_STORE is not pkcs11: the local key store derives every tenant's keys itself", err=True)
        raise typer.Exit(2)
    try:
        for name in tenant:
            typer.echo(f"{name}: {'provisioned' if keys.provision(name) else 'already provisioned'}")
    finally:
        keys.close()
