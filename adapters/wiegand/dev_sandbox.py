"""Generic Wiegand for ``lis dev`` and the tests: ``lis sandbox wiegand`` beside the stack, simulating the locks'
encoders (their gateway ids) on pseudo-terminals and knowing their zones; the account's serial ports are the
simulator's links."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from adapters.dev_sandbox import FAULT_HELP, RunningSandbox, SandboxHost, faults_of
from app.domain.directory import DirectoryLock

FACILITY_CODE = 42


async def start(host: SandboxHost, locks: Sequence[DirectoryLock]) -> RunningSandbox:
    link_dir = host.root / "wiegand"
    encoders = sorted({lock.gateway_id for lock in locks if lock.gateway_id})
    args = ["sandbox", "wiegand", "--link-dir", str(link_dir)]
    args += [arg for encoder in encoders for arg in ("--encoder", encoder)]
    args += [arg for lock in locks for arg in ("--zone", lock.vendor_lock_id)]
    url = host.serve(args, log_name="sandbox-wiegand", what="Wiegand encoder simulator")
    account = {"encoders": {encoder: str(link_dir / encoder) for encoder in encoders}, "facility_code": FACILITY_CODE}
    return RunningSandbox(url=url, account=account)


def command(
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
    asyncio.run(run_sandbox("127.0.0.1", port, encoders=encoder or ["front-desk"], zones=zone or ["staff"],
                            link_dir=link_dir, faults=faults))
