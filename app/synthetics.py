"""Synthetic vendor checks: a canary credential issued, found and revoked on each test lock, per vendor and region.

A test lock is a directory lock marked ``synthetic`` (an area lock without guest access: no stay is ever given a key
to it). Each check issues a credential valid for :data:`CANARY_WINDOW` under a label of its own, finds it in the
lock's listing where the vendor lists, revokes it where the vendor revokes remotely, and finds it gone. The checks
call the vendor once per step, without the saga's retries: they measure the vendor path as a guest's key meets it.
Results go to the ``lis_synthetic_*`` metrics (docs/OBSERVABILITY.md) and to ``lis synthetics run``'s output.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.credential_material import CredentialMaterial
from app.domain.credential import CredentialKind, IssueRequest, LockRef, Validity, Vendor
from app.domain.directory import LockDirectory
from app.domain.errors import LockError
from app.domain.lock_port import LockPort
from app.domain.saga_records import CredentialRecord, CredentialStatus
from app.metrics import SYNTHETIC_CHECK_SECONDS, SYNTHETIC_CHECK_UP, SYNTHETIC_CHECKS, SYNTHETIC_LAST_SUCCESS

CANARY_WINDOW = timedelta(minutes=15)  # a canary that could not be revoked lapses on its own this soon
KIND_PREFERENCE = (CredentialKind.PASSCODE, CredentialKind.CARD)  # a mobile key needs a guest's account


@dataclass(frozen=True)
class CanaryResult:
    lock: LockRef
    outcome: str  # ok, or the step that failed: issue_failed, not_listed, revoke_failed, still_listed
    seconds: float
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


async def canary(port: LockPort, material: CredentialMaterial, lock: LockRef, now: datetime) -> CanaryResult:
    """Issue, find, revoke and miss one canary credential on the test lock ``lock``."""
    started = time.perf_counter()
    capabilities = port.capabilities
    kind = next((kind for kind in KIND_PREFERENCE if kind in capabilities.kinds), None)
    if kind is None:
        return CanaryResult(lock, "issue_failed", 0.0, f"{lock.vendor} issues neither passcodes nor cards")
    key = f"synthetic|{lock.tenant}|{lock.property}|{lock.lock_id}|{now.isoformat()}"
    validity = Validity(starts_at=now, ends_at=now + CANARY_WINDOW)
    record = CredentialRecord(stay=f"synthetic:{lock.lock_id}", sequence=0, idempotency_key=key,
                              status=CredentialStatus.ISSUING, kind=kind, validity=validity)

    def result(outcome: str, detail: str = "") -> CanaryResult:
        return CanaryResult(lock, outcome, time.perf_counter() - started, detail)

    try:
        issued = await port.issue(IssueRequest(lock=lock, kind=kind, validity=validity, label=record.label,
                                               secret=await material.secret(lock, record, attempt=0)))
    except LockError as err:
        return result("issue_failed", err.cause)
    try:
        if capabilities.lists_credentials and not await _listed(port, lock, record.label):
            return result("not_listed", "the issued canary is not in the lock's listing")
        if not capabilities.remote_revoke:
            return result("ok", f"issued; {lock.vendor} cannot revoke remotely: it lapses in {CANARY_WINDOW}")
        await port.revoke(lock, issued.vendor_ref)
    except LockError as err:
        return result("revoke_failed", err.cause)
    try:
        if capabilities.lists_credentials and await _listed(port, lock, record.label):
            return result("still_listed", "the revoked canary is still in the lock's listing")
    except LockError as err:
        return result("revoke_failed", err.cause)
    return result("ok")


async def _listed(port: LockPort, lock: LockRef, label: str) -> bool:
    return any(credential.label == label for credential in await port.list_credentials(lock))


def record_metrics(outcome: CanaryResult, at: float) -> None:
    vendor, region = outcome.lock.vendor.value, outcome.lock.region
    SYNTHETIC_CHECKS.labels(vendor, region, outcome.outcome).inc()
    SYNTHETIC_CHECK_UP.labels(vendor, region).set(1 if outcome.ok else 0)
    if outcome.ok:
        SYNTHETIC_CHECK_SECONDS.labels(vendor, region).observe(outcome.seconds)
        SYNTHETIC_LAST_SUCCESS.labels(vendor, region).set(at)


async def check_round(directory: LockDirectory, properties: dict[str, list[str]],
                      port_for: Callable[[str, str, Vendor], Awaitable[LockPort]], material: CredentialMaterial,
                      now: Callable[[], datetime]) -> list[CanaryResult]:
    """One check of every test lock of ``properties`` (tenant → property ids); a port that cannot be built fails
    the issue step of its locks."""
    results = []
    for tenant, property_ids in properties.items():
        for property_id in property_ids:
            found = await directory.property_directory(tenant, property_id)
            for lock in found.synthetic_locks() if found else []:
                try:
                    port = await port_for(tenant, property_id, lock.vendor)
                except LockError as err:
                    outcome = CanaryResult(lock, "issue_failed", 0.0, err.cause)
                else:
                    outcome = await canary(port, material, lock, now())
                record_metrics(outcome, time.time())
                results.append(outcome)
    return results
