"""``lis``: the service's command line (typer)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import typer

from app.cli.audit import audit_cli, dr_cli
from app.cli.dlq import dlq_cli
from app.cli.ingress import ingress_cli
from app.cli.keys import keys_cli
from app.cli.master_key import master_key_cli
from app.cli.observability import dashboards_command, status_feed_command
from app.cli.ops import ops_cli
from app.cli.pms import pms_cli
from app.cli.readiness import readiness_command
from app.cli.synthetics import synthetics_cli
from app.devstack.hil import hil_cli
from app.devstack.sandbox_cli import sandbox_cli

cli = typer.Typer(no_args_is_help=True, help="lock-integration-service: PMS reservations in, door keys out.")
directory_cli = typer.Typer(no_args_is_help=True, help="The lock directory of each tenant's properties.")
cli.add_typer(sandbox_cli, name="sandbox")
cli.add_typer(directory_cli, name="directory")
cli.add_typer(audit_cli, name="audit")
cli.add_typer(dr_cli, name="dr")
cli.add_typer(ingress_cli, name="ingress")
cli.add_typer(dlq_cli, name="dlq")
cli.add_typer(master_key_cli, name="master-key")
cli.add_typer(hil_cli, name="hil")
cli.add_typer(pms_cli, name="pms")
cli.add_typer(keys_cli, name="keys")
cli.add_typer(ops_cli, name="ops")
cli.add_typer(synthetics_cli, name="synthetics")
cli.command("readiness")(readiness_command)
cli.command("dashboards")(dashboards_command)
cli.command("status-feed")(status_feed_command)


@cli.command()
def worker(loglevel: str = typer.Option("info", help="Log level of the worker.")) -> None:
    """Run a Faust worker: every agent in `agents/` (reservations, lock sagas, audit sink, webhooks…) and every
    table and ops view in `tables/`."""
    import importlib
    import logging
    import pkgutil

    import agents
    import tables

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per vendor request drowns the worker's log
    for package in (agents, tables):
        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{module.name}")  # registers agents, tables, views

    from app.faust_offsets_patch import install_consumer_patch
    from app.infra.topics import ensure_topics
    from app.settings import settings

    install_consumer_patch()  # no record committed unprocessed across a takeover: docs/adr/0005
    if settings.metrics_port:  # apart from the ops API: the metrics name every tenant (docs/OBSERVABILITY.md)
        from prometheus_client import start_http_server

        start_http_server(settings.metrics_port, addr=settings.web_host)

    (settings.data_dir / "faust").mkdir(parents=True, exist_ok=True)
    asyncio.run(ensure_topics(settings.kafka_bootstrap_servers, prefix=settings.topic_prefix,
                              partitions=settings.partitions, replication=settings.replication,
                              app_id=settings.app_id))
    from app.runtime import quiet_worker

    quiet_worker(loglevel).execute_from_commandline()


@cli.command()
def migrate(admin_url: str = typer.Option(..., envvar="LIS_ADMIN_DATABASE_URL", help="The database owner's URL."),
            app_password: str = typer.Option(..., envvar="LIS_APP_DB_PASSWORD", help="Password of role lis_app.")
            ) -> None:
    """Apply the schema migrations and (re)create the application role."""
    from adapters.postgres.migrate import migrate as run_migrations

    asyncio.run(run_migrations(admin_url, app_password=app_password))
    typer.echo("migrated")


LOOPBACK_VENDORS = typer.Option(False, "--allow-loopback-vendors",
                                help="Accept vendor URLs on this machine (the dev stack's sandboxes).")


@directory_cli.command("validate")
def directory_validate(path: Path, allow_loopback_vendors: bool = LOOPBACK_VENDORS) -> None:
    """Check a directory file offline (docs/DIRECTORY.md): every problem with its line; exit 1 on any error."""
    from app.directory_file import check_file

    problems = check_file(path, allow_loopback_vendors=allow_loopback_vendors)
    for problem in problems:
        typer.echo(f"{path}: {problem}")
    errors = [p for p in problems if not p.warning]
    typer.echo(f"{path}: {len(errors)} error(s), {len(problems) - len(errors)} warning(s)")
    raise typer.Exit(1 if errors else 0)


@directory_cli.command("load")
def directory_load(path: Path, allow_loopback_vendors: bool = LOOPBACK_VENDORS) -> None:
    """Check a YAML/JSON directory file (as validate does), then load its tenants, properties, locks and sealed
    vendor accounts into PostgreSQL; nothing is loaded, and nothing connected to, when it has errors."""
    from app.directory_load import DirectoryFileError, load_directory
    from app.settings import settings

    try:
        count = asyncio.run(load_directory(settings.database_url, path, allow_loopback_vendors=allow_loopback_vendors))
    except DirectoryFileError as err:
        typer.echo(str(err), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"loaded {count} locks")


EXPORT_TO = typer.Option(None, "--output", "-o", help="Write here (default: standard output).")


@directory_cli.command("export")
def directory_export(
    tenant: str = typer.Option(..., help="Tenant id."),
    output: Path | None = EXPORT_TO,
) -> None:
    """Write a tenant's directory as it is in PostgreSQL, in the file format `lis directory load` reads; every
    vendor-account secret as a ${LIS_<TENANT>_<PROPERTY>_<VENDOR>_<FIELD>} reference, never in clear."""
    import yaml

    from adapters.postgres.pool import create_pool
    from app.directory_export import export_tenant
    from app.settings import settings

    async def export() -> list[dict[str, object]]:
        pool = await create_pool(settings.database_url)
        try:
            return await export_tenant(pool, settings.keys(), tenant)
        finally:
            await pool.close()

    from app.domain.errors import Unsupported

    try:
        entries = asyncio.run(export())
    except (LookupError, Unsupported) as err:  # no such tenant; an account of a vendor this build does not have
        typer.echo(f"lis: {err.args[0]}", err=True)
        raise typer.Exit(1) from None
    text = yaml.safe_dump(entries, sort_keys=False)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text)
        typer.echo(f"wrote {output}", err=True)


dev_cli = typer.Typer(help="The whole service on its embedded default, fed a simulated hotel day.")
cli.add_typer(dev_cli, name="dev")


@dev_cli.callback(invoke_without_command=True)
def dev(
    ctx: typer.Context,
    reservations: int = typer.Option(0, help="Limit the simulated day to this many reservations (0: a full day)."),
    seconds: float = typer.Option(30.0, help="How long the simulated day takes in real time."),
    seed: int = typer.Option(7, help="Seed of the simulated day."),
    keep: bool = typer.Option(False, "--keep", help="Keep the stack running after the day, for other commands "
                              "from a second shell (they find it by themselves); Ctrl-C stops it, logs are kept."),
) -> None:
    """Run everything on the embedded default: PostgreSQL, Kafka, the TTLock and Salto sandboxes, the Wiegand
    encoder simulator, a worker, and a simulated day of a mixed-vendor hotel (floors 1-3 and the lobby on TTLock,
    floors 4-6 on Salto, rooms 617-620 and the staff area on Wiegand cards), its events spread over --seconds."""
    if ctx.invoked_subcommand is not None:
        return
    from app.devstack.day import run_dev

    os.environ.setdefault("LIS_TOPIC_PREFIX", "")
    try:
        code = asyncio.run(run_dev(reservations=reservations, seconds=seconds, seed=seed, keep=keep))
    except KeyboardInterrupt:  # Ctrl-C: the stack is stopped (run_dev's finally); an exit code, not a signal death,
        code = 130  # so that `make dev` (its recipe takes 130 as a clean stop) reports no error
    raise typer.Exit(code)


@dev_cli.command("env")
def dev_env() -> None:
    """Print `export` lines for the running `lis dev` stack (use: eval "$(lis dev env)"); exits 1 when none runs."""
    import shlex

    from app.dev_state import read_state, state_file

    stack = read_state()
    if stack is None:
        typer.echo(f"lis: no lis dev stack is running (no live {state_file()}); start one with `lis dev --keep`",
                   err=True)
        raise typer.Exit(1)
    for name, value in sorted(stack.env.items()):
        typer.echo(f"export {name}={shlex.quote(value)}")


@cli.command("reconcile")
def reconcile(
    tenant: str = typer.Option(..., help="Tenant id."),
    property_id: str = typer.Option(..., "--property", help="Property id."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Report what differs, repair nothing."),
    timeout: float = typer.Option(300, help="Give up on locks that have not answered after this many seconds."),
) -> None:
    """List every lock of the property and compare it with its saga: revoke our credentials no stay owns, put back
    the ones that went missing or changed. Exits 0 when clean or repaired, 1 when a lock could not be judged, 8 when
    --dry-run found differences."""
    from app.cli.reconcile import reconcile_command

    reconcile_command(tenant, property_id, dry_run, timeout)


@cli.command("audit-stream")
def audit_stream(
    tenant: str = typer.Option(None, help="Only this tenant's stays (default: every tenant)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Report the differences, re-drive nothing."),
) -> None:
    """Check that every stay on pms.reservations has a stay record at its latest revision and, while active, a saga
    record on each of its locks; re-drive the differences. Exits 1 when there were any."""
    from app.stream_audit import audit_stream as run_audit

    report = asyncio.run(run_audit(tenant, redrive=not dry_run))
    for difference in report.differences:
        typer.echo(f"{difference.stay}: {difference.problem} ({difference.detail})")
    action = "re-drive nothing (dry run)" if dry_run else f"re-drove them with {report.redriven} records"
    typer.echo(f"{report.stays_checked} stays checked, {len(report.differences)} differences; {action}")
    raise typer.Exit(1 if report.differences else 0)


@cli.command()
def schemas() -> None:
    """Release every changed event model as the next version of its schema in `schemas/` (refused, exit 1, when
    the change breaks a released version)."""
    from app.schemas import SchemaIncompatible, release_schemas

    try:
        released = release_schemas()
    except SchemaIncompatible as err:
        typer.echo(f"not released: {err}", err=True)
        raise typer.Exit(1) from err
    for entry in released:
        typer.echo(f"released {entry.file} (schema id {entry.id})")
    if not released:
        typer.echo("every schema is released and current")


# Commands that run and end (not the worker, the ingress or the sandboxes, whose logs are their record).
SHORT_COMMANDS = frozenset({"ops", "keys", "dlq", "audit", "audit-stream", "reconcile", "master-key", "pms",
                            "directory", "dr", "migrate", "synthetics"})


def _say_when_on_the_dev_stack(command: list[str]) -> None:
    import sys

    from app.settings import dev_stack_in_use

    if dev_stack_in_use is not None and command and command[0] not in ("dev", "--help"):
        print(f"lis: using the lis dev stack (pid {dev_stack_in_use.pid}, logs in {dev_stack_in_use.root}); set "
              "KAFKA_BOOTSTRAP_SERVERS or DATABASE_URL to use other services", file=sys.stderr)


def main() -> None:
    """`lis`: known service failures become one line and an exit code (app/cli/errors.py); `--debug` or
    `LIS_DEBUG=1` shows the traceback."""
    import sys
    import warnings

    from app.cli.errors import database_of, explain, quiet_shutdown

    # platformdirs warns when XDG_RUNTIME_DIR is unset or not 0700 and falls back to /tmp: nothing for a user to do.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    debug = "--debug" in sys.argv or os.environ.get("LIS_DEBUG") == "1"
    if "--debug" in sys.argv:
        sys.argv.remove("--debug")
    if not debug and sys.argv[1:2] and sys.argv[1] in SHORT_COMMANDS:
        quiet_shutdown()  # a client's connection retries are this command's business: it reports them in one line
    _say_when_on_the_dev_stack(sys.argv[1:2])
    try:
        cli(standalone_mode=True)
    except Exception as err:
        explained = None if debug else explain(err, database_of(sys.argv[1:], dict(os.environ)))
        if explained is None:
            raise
        quiet_shutdown()
        print(f"lis: {explained.line}", file=sys.stderr)
        raise SystemExit(explained.exit_code) from None
