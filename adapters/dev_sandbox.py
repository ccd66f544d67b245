"""What a vendor folder gives ``lis dev`` and the test pipeline: a function starting its sandbox beside the dev
stack and provisioning the locks it is given (dev tooling: the service never imports it).

A vendor's ``adapters/<vendor>/dev_sandbox.py`` defines ``start`` (a :data:`DevSandbox`) and its ``VendorSpec``
names it as ``dev_sandbox="adapters.<vendor>.dev_sandbox:start"``, a string, so the service's import of the spec
does not load dev tooling. ``app/devstack/vendors.py::start_sandboxes`` runs them for every vendor of a directory.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from app.domain.directory import DirectoryLock


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
