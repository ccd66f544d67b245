"""What a vendor folder gives the dev tooling (the service never imports it): ``lis sandbox <vendor>`` to run its
sandbox, and for ``lis dev`` and the test pipeline a function starting that sandbox beside the dev stack and
provisioning the locks it is given.

A vendor's ``adapters/<vendor>/dev_sandbox.py`` defines ``command`` (the typer command of ``lis sandbox <vendor>``,
its docstring the help) and ``start`` (a :data:`DevSandbox`); its ``VendorSpec`` names the module as
``dev_sandbox="adapters.<vendor>.dev_sandbox"``, a string, so the service's import of the spec loads no dev
tooling. ``app/devstack/sandbox_cli.py`` and ``app/devstack/vendors.py::start_sandboxes`` iterate over the specs.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import typer

from adapters.sandbox_faults import FaultSeed, parse_fault
from app.domain.directory import DirectoryLock

FAULT_HELP = "Arm a fault: MODE[:RATE][:count=N][:ms=N], e.g. rate_limit:0.2 (repeatable)."


class SandboxHost(Protocol):
    """Where a sandbox runs: the dev stack (``app/devstack/stack.py::Stack``)."""

    @property
    def root(self) -> Path:
        """A folder of the stack's own, deleted with it (serial port links, say)."""
        ...

    def serve(self, args: list[str], *, log_name: str, what: str) -> str:
        """Run ``lis <args> --port N`` as a child of the stack on a free port; its base URL once it listens."""
        ...


@dataclass(frozen=True)
class RunningSandbox:
    """A vendor sandbox the stack started and provisioned."""

    url: str  # its admin API (``/sandbox/...``)
    account: dict[str, Any]  # the vendor account configuration of the given locks, as the directory stores it


DevSandbox = Callable[[SandboxHost, Sequence[DirectoryLock]], Awaitable[RunningSandbox]]


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
