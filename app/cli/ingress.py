"""``lis ingress``: run the vendor webhook ingress and manage each tenant's webhook secrets."""

from __future__ import annotations

import asyncio
import base64
import logging
import logging.config
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from app.security.webhook_signature import EndpointSecrets

ingress_cli = typer.Typer(no_args_is_help=True, help="The signed vendor webhook ingress (aiohttp).")
secret_cli = typer.Typer(no_args_is_help=True, help="Each tenant's webhook secrets, sealed in PostgreSQL.")
ingress_cli.add_typer(secret_cli, name="secret")


@ingress_cli.command("serve")
def serve(
    host: str = typer.Option("", help="Address to listen on (default LIS_INGRESS_HOST or 127.0.0.1)."),
    port: int = typer.Option(-1, help="Port to listen on (default LIS_INGRESS_PORT or 8088)."),
    loglevel: str = typer.Option("info", help="Log level; the access log is at info and never shows secrets."),
) -> None:
    """Serve `/webhooks/...` until SIGINT or SIGTERM; needs Kafka, PostgreSQL and the master key file."""
    from aiohttp import web

    from app.ingress.guards import load_ingress_settings
    from app.ingress.server import RedactingAccessLogger, create_app
    from app.logs import logging_config
    from app.settings import settings as service

    settings = load_ingress_settings()
    settings = settings.model_copy(update={"host": host or settings.host, "port": settings.port if port < 0 else port})
    logging.config.dictConfig(logging_config(service.log_format, loglevel))
    web.run_app(create_app(settings, service), host=settings.host, port=settings.port,
                access_log_class=RedactingAccessLogger, access_log=logging.getLogger("lis.ingress.access"),
                print=lambda line: typer.echo(f"ingress listening on http://{settings.host}:{settings.port}"))


@secret_cli.command("rotate")
def rotate(
    tenant: str = typer.Option(..., help="The tenant (hotel group)."),
    vendor: str = typer.Option(..., help="A Standard Webhooks vendor of the directory, e.g. salto."),
    secret: str = typer.Option("", help="The new whsec_ secret (default: a fresh random one)."),
    grace_hours: float = typer.Option(24.0, help="How long the previous secrets stay valid."),
) -> None:
    """Make a new signing secret current; older ones stay valid for the grace period. Prints the new secret once."""
    from adapters.registry import INSTALLED

    webhooks = INSTALLED.spec(vendor).webhooks if vendor in INSTALLED else None
    if webhooks is None or not webhooks.signed:
        signed = [spec.name for spec in INSTALLED if spec.webhooks is not None and spec.webhooks.signed]
        raise typer.BadParameter(f"{vendor!r} sends no signed webhooks here (those that do: {', '.join(signed)})",
                                 param_hint="--vendor")
    new_secret = secret or "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    asyncio.run(_update(tenant, vendor, lambda current: current.rotated(
        new_secret, now=datetime.now(UTC), grace=timedelta(hours=grace_hours))))
    typer.echo(new_secret)


@secret_cli.command("ttlock-path")
def ttlock_path(tenant: str = typer.Option(..., help="The tenant (hotel group).")) -> None:
    """Give the tenant a new TTLock callback path secret; prints the callback path to configure at TTLock."""
    path_secret = secrets.token_urlsafe(24)
    from pydantic import SecretStr

    asyncio.run(_update(tenant, "ttlock",
                        lambda current: current.model_copy(update={"path_secret": SecretStr(path_secret)})))
    typer.echo(f"/webhooks/ttlock/{tenant}/{path_secret}")


async def _update(tenant: str, vendor: str, change: Callable[[EndpointSecrets], EndpointSecrets]) -> None:
    from adapters.postgres.pool import create_pool
    from adapters.postgres.webhook_endpoints import load_webhook_endpoint, save_webhook_endpoint
    from app.security.webhook_signature import EndpointSecrets
    from app.settings import settings

    keys = settings.keys()
    pool = await create_pool(settings.database_url, max_size=1)
    try:
        current = await load_webhook_endpoint(pool, keys, tenant, vendor) or EndpointSecrets()
        await save_webhook_endpoint(pool, keys, tenant, vendor, change(current))
    finally:
        await pool.close()
