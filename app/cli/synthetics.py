"""``lis synthetics run``: the synthetic vendor checks on the tenants' test locks, once or on a schedule."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

import typer

from app.settings import settings

synthetics_cli = typer.Typer(no_args_is_help=True, help="Synthetic vendor checks on the directory's test locks.")


async def run_checks(tenants: list[str], *, every_s: float, rounds: int) -> bool:
    """``rounds`` rounds (0: until stopped) ``every_s`` apart; whether every check of the last round passed."""
    from adapters.postgres.card_numbers import PostgresCardNumbers
    from adapters.postgres.directory import PostgresDirectory, synthetic_properties
    from adapters.postgres.pool import create_pool
    from adapters.registry import VendorPorts
    from app.credential_material import CredentialMaterial
    from app.synthetics import check_round

    if not settings.database_url:
        raise typer.BadParameter("DATABASE_URL is not set: the test locks come from the directory")
    pool = await create_pool(settings.database_url, max_size=2)
    keys = settings.keys()
    ports = VendorPorts(pool, keys)
    passed, done = True, 0
    try:
        properties = {tenant: await synthetic_properties(pool, tenant) for tenant in tenants}
        if not any(properties.values()):
            typer.echo(f"no test lock (synthetic: true) in the directory of {', '.join(tenants)}", err=True)
            return False
        while rounds == 0 or done < rounds:
            if done:
                await asyncio.sleep(every_s)
            results = await check_round(PostgresDirectory(pool), properties, ports.port,
                                        CredentialMaterial(keys, PostgresCardNumbers(pool)), lambda: datetime.now(UTC))
            for result in results:
                lock = result.lock
                where = f"{lock.tenant}/{lock.property}/{lock.lock_id} ({lock.vendor}, {lock.region})"
                verdict = f"ok in {result.seconds:.2f} s" if result.ok else f"FAILED: {result.outcome}"
                typer.echo(f"{where}: {verdict}" + (f" ({result.detail})" if result.detail else ""))
            passed, done = all(result.ok for result in results), done + 1
    finally:
        await ports.aclose()
        await pool.close()
    return passed


@synthetics_cli.command("run")
def synthetics_run(
    tenant: Annotated[list[str], typer.Option(help="A tenant whose test locks to check (repeatable).")],
    every: Annotated[float, typer.Option(min=1.0, help="Seconds between rounds.")] = 300.0,
    rounds: Annotated[int, typer.Option(min=0, help="Rounds to run; 0 runs until stopped.")] = 1,
    metrics_port: Annotated[int, typer.Option(help="Serve the lis_synthetic_* metrics on this port (0: not).")] = 0,
) -> None:
    """Issue, find and revoke a canary credential on every test lock (`synthetic: true` in the directory) of the
    tenants; exit 1 when a check of the last round failed. Guest locks are never touched."""
    if metrics_port:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, addr=settings.web_host)
    if not asyncio.run(run_checks(tenant, every_s=every, rounds=rounds)):
        raise typer.Exit(1)
