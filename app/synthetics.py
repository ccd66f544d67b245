"""Synthetic vendor checks: a canary credential issued, found and revoked on each test lock, per vendor and region.

A test lock is a directory lock marked ``synthetic`` (an area lock without guest access: no stay is ever given a key
to it). Each check issues a credential valid for :data:`CANARY_WINDOW` under a label of its own, finds it in the
lock's listing where the vendor lists, revokes it where the vendor revokes remotely, and finds it gone where it lists
(a vendor that cannot list or revoke remotely is checked on the steps it has). The checks
call the vendor once per step, without the saga's retries: they measure the vendor path as a guest's key meets it.
Results go to the ``lis_synthetic_*`` metrics (docs/OBSERVABILITY.md) and to ``lis synthetics run``'s output.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.credential_material import CredentialMaterial
from app.domain.credential import CredentialKind, IssueRequest, LockRef, Validity, VendorName
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
    outcome: str  # ok, or the step that failed: issue_failed, list_failed, not_listed, revoke_failed, still_listed
    seconds: float
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


def canary_label(key: str) -> str:
    """Not the ``lis-`` prefix of guests' keys: reconciliation leaves a canary alone instead of revoking it as a
    stray in the middle of its check (an unrevoked canary lapses on its own)."""
    return "canary-" + hashlib.sha256(key.encode()).hexdigest()[:16]


async def canary(port: LockPort, material: CredentialMaterial, lock: LockRef, now: datetime) -> CanaryResult:
    """Issue, find, revoke and miss one canary credential on the test lock ``lock``; once issued, the revoke is
    always attempted, whatever the listing said."""
    started = time.perf_counter()
    capabilities = port.capabilities
    kind = next((kind for kind in KIND_PREFERENCE if kind in capabilities.kinds), None)
    if kind is None:
        return CanaryResult(lock, "issue_failed", 0.0, f"{lock.vendor} issues neither passcodes nor cards")
    key = f"synthetic|{lock.tenant}|{lock.property}|{lock.lock_id}|{now.isoformat()}"
    label, validity = canary_label(key), Validity(starts_at=now, ends_at=now + CANARY_WINDOW)
    record = CredentialRecord(stay=f"synthetic:{lock.lock_id}", sequence=0, idempotency_key=key,
                              status=CredentialStatus.ISSUING, kind=kind, validity=validity)

    def result(outcome: str, detail: str = "") -> CanaryResult:
        return CanaryResult(lock, outcome, time.perf_counter() - started, detail)

    try:
        issued = await port.issue(IssueRequest(lock=lock, kind=kind, validity=validity, label=label,
                                               secret=await material.secret(lock, record, attempt=0)))
    except LockError as err:
        return result("issue_failed", err.cause)
    found = await _listing(port, lock, label, expect=True) if capabilities.lists_credentials else None
    if not capabilities.remote_revoke:
        return found or result("ok", f"issued; {lock.vendor} cannot revoke remotely: it lapses in {CANARY_WINDOW}")
    try:
        await port.revoke(lock, issued.vendor_ref)
    except LockError as err:
        return result("revoke_failed", err.cause)
    if found is not None:
        return found
    gone = await _listing(port, lock, label, expect=False) if capabilities.lists_credentials else None
    return gone or result("ok")


async def _listing(port: LockPort, lock: LockRef, label: str, *, expect: bool) -> CanaryResult | None:
    """None when the lock's listing holds the canary as ``expect``-ed, else the failed step."""
    try:
        listed = any(credential.label == label for credential in await port.list_credentials(lock))
    except LockError as err:
        return CanaryResult(lock, "list_failed", 0.0, err.cause)
    if listed == expect:
        return None
    if expect:
        return CanaryResult(lock, "not_listed", 0.0, "the issued canary is not in the lock's listing")
    return CanaryResult(lock, "still_listed", 0.0, "the revoked canary is still in the lock's listing")


def record_metrics(results: list[CanaryResult], at: float) -> None:
    """Each check counted; per vendor and region, up only when every test lock there passed (one failing canary
    is not hidden by a passing one checked after it)."""
    pairs: dict[tuple[str, str], bool] = {}
    for outcome in results:
        vendor, region = outcome.lock.vendor, outcome.lock.region
        SYNTHETIC_CHECKS.labels(vendor, region, outcome.outcome).inc()
        if outcome.ok:
            SYNTHETIC_CHECK_SECONDS.labels(vendor, region).observe(outcome.seconds)
        pairs[(vendor, region)] = pairs.get((vendor, region), True) and outcome.ok
    for (vendor, region), passed in pairs.items():
        SYNTHETIC_CHECK_UP.labels(vendor, region).set(1 if passed else 0)
        if passed:
            SYNTHETIC_LAST_SUCCESS.labels(vendor, region).set(at)


async def check_round(directory: LockDirectory, properties: dict[str, list[str]],
                      port_for: Callable[[str, str, VendorName], Awaitable[LockPort]], material: CredentialMaterial,
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
                    results.append(CanaryResult(lock, "issue_failed", 0.0, err.cause))
                else:
                    results.append(await canary(port, material, lock, now()))
    record_metrics(results, time.time())
    return results
