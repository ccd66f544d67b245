"""Generic Wiegand for ``lis dev`` and the tests: ``lis sandbox wiegand`` beside the stack, simulating the locks'
encoders (their gateway ids) on pseudo-terminals and knowing their zones; the account's serial ports are the
simulator's links."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.dev_sandbox import RunningSandbox, SandboxHost
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
