"""``lis sandbox …``: the vendor sandboxes, real servers speaking each vendor's wire format, on 127.0.0.1; and the
conformance report that runs the LockPort contract suite against them.

Every sandbox takes ``--fault MODE[:RATE][:count=N][:ms=N]`` (repeatable), e.g. ``--fault rate_limit:0.2`` or
``--fault latency:1:ms=300``; faults can also be armed and cleared at run time through ``/sandbox/faults``.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Collection
from pathlib import Path
from typing import Annotated

import typer

from adapters.sandbox_faults import FaultSeed, parse_fault

sandbox_cli = typer.Typer(no_args_is_help=True, help="Vendor sandboxes: real servers speaking each vendor's wire.")
FAULT_HELP = "Arm a fault: MODE[:RATE][:count=N][:ms=N], e.g. rate_limit:0.2 (repeatable)."


def faults_of(specs: list[str], modes: Collection[str]) -> list[FaultSeed]:
    """Parse ``--fault`` options against the modes a sandbox can produce; BadParameter names the problem."""
    faults = []
    for spec in specs:
        try:
            fault = parse_fault(spec)
        except ValueError as err:
            raise typer.BadParameter(str(err), param_hint="--fault") from err
        if fault.mode not in modes:
            raise typer.BadParameter(f"{fault.mode!r} is not one of {', '.join(sorted(modes))}", param_hint="--fault")
        faults.append(fault)
    return faults


def run_http_sandbox(vendor: str, label: str, port: int, seed_file: Path | None, fault: list[str] | None) -> None:
    """Run ``adapters/<vendor>/sandbox.py`` on 127.0.0.1:port with its JSON seed and the ``--fault`` options added."""
    sandbox = importlib.import_module(f"adapters.{vendor}.sandbox")
    modes = importlib.import_module(f"adapters.{vendor}.sandbox_state").FAULT_MODES
    seed = sandbox.SandboxSeed.model_validate_json(seed_file.read_text() if seed_file else "{}")
    seed = seed.model_copy(update={"faults": [*seed.faults, *faults_of(fault or [], modes)]})
    typer.echo(f"{label} sandbox listening on http://127.0.0.1:{port} (Ctrl-C stops it)")
    asyncio.run(sandbox.run_sandbox("127.0.0.1", port, seed=seed))


@sandbox_cli.command("ttlock")
def sandbox_ttlock(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8081,
    seed_file: Annotated[Path | None, typer.Option(help="JSON seed: accounts, gateways, locks, faults.")] = None,
    fault: Annotated[list[str] | None, typer.Option(help=FAULT_HELP)] = None,
) -> None:
    """Run the TTLock Open Platform sandbox on 127.0.0.1."""
    run_http_sandbox("ttlock", "TTLock", port, seed_file, fault)


@sandbox_cli.command("salto")
def sandbox_salto(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (the identity server and the API).")] = 8082,
    seed_file: Annotated[
        Path | None, typer.Option(help="JSON seed: clients, gateways, accessPoints, encoders, faults.")
    ] = None,
    fault: Annotated[list[str] | None, typer.Option(help=FAULT_HELP)] = None,
) -> None:
    """Run the Salto Space sandbox on 127.0.0.1."""
    run_http_sandbox("salto", "Salto", port, seed_file, fault)


@sandbox_cli.command("wiegand")
def sandbox_wiegand(
    port: Annotated[int, typer.Option(help="Port of the admin API on 127.0.0.1.")] = 8083,
    link_dir: Annotated[Path, typer.Option(help="Where each encoder's serial port link is made.")] = Path(
        ".var/wiegand"
    ),
    encoder: Annotated[
        list[str] | None, typer.Option(help="An encoder to simulate (repeatable; default: front-desk).")
    ] = None,
    zone: Annotated[
        list[str] | None, typer.Option(help="A zone (lock) the encoders know (repeatable; default: staff).")
    ] = None,
    fault: Annotated[list[str] | None, typer.Option(help=FAULT_HELP)] = None,
) -> None:
    """Run the Generic Wiegand encoder simulator: encoders on pseudo-terminals, admin API on 127.0.0.1."""
    from adapters.wiegand.sandbox import run_sandbox
    from adapters.wiegand.sandbox_state import FAULT_MODES

    faults = faults_of(fault or [], FAULT_MODES)
    typer.echo(f"Wiegand encoder simulator: admin API on http://127.0.0.1:{port}, serial links in {link_dir} "
               "(Ctrl-C stops it)")
    asyncio.run(
        run_sandbox(
            "127.0.0.1",
            port,
            encoders=encoder or ["front-desk"],
            zones=zone or ["staff"],
            link_dir=link_dir,
            faults=faults,
        )
    )


@sandbox_cli.command("conformance")
def sandbox_conformance(
    reports_dir: Annotated[Path, typer.Option(envvar="LIS_CONFORMANCE_DIR", help="Reports folder.")] = Path(
        ".var/conformance"
    ),
    vendor: Annotated[
        list[str] | None, typer.Option(help="Vendors to run (repeatable; default: all of the contract suite).")
    ] = None,
) -> None:
    """Run the LockPort contract suite per vendor and write a dated report and a summary under `reports_dir`."""
    from app.devstack.conformance import VENDORS, run_conformance

    unknown = sorted(set(vendor or []) - set(VENDORS))
    if unknown:
        raise typer.BadParameter(f"unknown vendors {unknown}; known: {', '.join(VENDORS)}", param_hint="--vendor")
    report = run_conformance(reports_dir, vendor or list(VENDORS))
    typer.echo(report.summary)
    raise typer.Exit(0 if report.green else 1)
