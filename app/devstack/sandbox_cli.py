"""``lis sandbox …``: the vendor sandboxes, real servers speaking each vendor's wire format, on 127.0.0.1 (one
command per installed vendor, its ``dev_sandbox`` module's ``command``); and the conformance report that runs the
LockPort contract suite against them.

Every sandbox takes ``--fault MODE[:RATE][:count=N][:ms=N]`` (repeatable), e.g. ``--fault rate_limit:0.2`` or
``--fault latency:1:ms=300``; faults can also be armed and cleared at run time through ``/sandbox/faults``.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Annotated

import typer

from adapters.registry import INSTALLED

sandbox_cli = typer.Typer(no_args_is_help=True, help="Vendor sandboxes: real servers speaking each vendor's wire.")



def _add_vendor_commands() -> None:
    """``lis sandbox <vendor>`` for every installed vendor with a dev sandbox, in the registry's order."""
    for spec in INSTALLED:
        if spec.dev_sandbox:
            sandbox_cli.command(spec.name)(importlib.import_module(spec.dev_sandbox).command)


_add_vendor_commands()


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
