"""The vendor sandboxes of ``lis dev`` and the test pipeline: for each vendor of a directory, the ``dev_sandbox`` its
spec names (``adapters/<vendor>/dev_sandbox.py``) starts its sandbox as a child of the stack and provisions the
locks; what comes back is each vendor's sandbox URL and the account configuration the directory stores sealed
(``vendor_accounts``), so the worker builds the real adapters against the sandboxes. No vendor is named here."""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping, Sequence

from adapters.dev_sandbox import DevSandbox, RunningSandbox, SandboxHost
from adapters.registry import INSTALLED, Registry
from app.domain.directory import DirectoryLock
from app.domain.errors import Unsupported


def dev_sandbox_of(vendor: str, registry: Registry = INSTALLED) -> DevSandbox:
    """The ``start`` function of the dev sandbox module vendor's spec names; Unsupported when it names none."""
    spec = registry.spec(vendor)
    if not spec.dev_sandbox:
        raise Unsupported(f"{spec.display} has no dev sandbox (its VendorSpec names no dev_sandbox)")
    start: DevSandbox = importlib.import_module(spec.dev_sandbox).start
    return start


def locks_by_vendor(locks: Iterable[DirectoryLock]) -> dict[str, list[DirectoryLock]]:
    """The locks grouped by vendor, in the order vendors first appear."""
    grouped: dict[str, list[DirectoryLock]] = {}
    for lock in locks:
        grouped.setdefault(lock.vendor, []).append(lock)
    return grouped


async def start_sandboxes(host: SandboxHost, locks: Mapping[str, Sequence[DirectoryLock]],
                          registry: Registry = INSTALLED) -> dict[str, RunningSandbox]:
    """Start and provision the sandbox of every vendor in ``locks`` (vendor → its locks, possibly none)."""
    return {vendor: await dev_sandbox_of(vendor, registry)(host, of_vendor) for vendor, of_vendor in locks.items()}
