"""The saga's vendor call executor on every adapter: a clashing PIN is replaced, and the circuit breaker fails fast
while a vendor is down and closes again after a good probe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.breaker import BreakerSettings
from app.domain.credential import CredentialKind, LockRef, Validity
from app.domain.lock_event import LockAction
from app.domain.lock_saga import CredentialRecord, CredentialStatus, VendorCall
from app.vendor_calls import RetrySettings, VendorCaller
from tests.contract.harness import VendorHarness

START = datetime(2026, 12, 1, 14, tzinfo=UTC)


def issue_call(kind: CredentialKind, key: str) -> VendorCall:
    record = CredentialRecord(stay=f"t/p/{key}", sequence=1, idempotency_key=key, status=CredentialStatus.ISSUING,
                              kind=kind, validity=Validity(starts_at=START, ends_at=START + timedelta(days=2)))
    return VendorCall(action=LockAction.ISSUE, record=record)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_passcode_that_clashes_on_the_lock_is_replaced_by_another(vendor_port: VendorHarness) -> None:
    if CredentialKind.PASSCODE not in vendor_port.port.capabilities.kinds:
        pytest.skip(f"{vendor_port.vendor} has no passcodes (capability kinds)")
    pins = iter(["123456", "654321", "111111"])
    await vendor_port.inject("duplicate", rate=1.0, count=1)

    def secret(lock: LockRef, record: CredentialRecord, attempt: int) -> str:
        return next(pins)

    outcome = await VendorCaller().carry_out(vendor_port.port, vendor_port.lock(0),
                                             issue_call(CredentialKind.PASSCODE, "dup-1"), secret)
    assert outcome.ok, outcome.detail
    (credential,) = await vendor_port.sandbox_credentials(vendor_port.lock(0))
    assert credential.label.startswith("lis-")


async def test_the_breaker_fails_fast_while_the_vendor_is_down_and_closes_after_a_good_probe(
    vendor_port: VendorHarness,
) -> None:
    clock = Clock()
    caller = VendorCaller(retry=RetrySettings(quick_attempts=1),
                          breaker=BreakerSettings(window_s=60, min_calls=3, failure_rate=0.5, open_s=30), clock=clock)
    kind = vendor_port.default_kind
    lock = vendor_port.lock(2)
    await vendor_port.inject("gateway_offline", rate=1.0)  # every vendor has it: the lock cannot be reached
    details = []
    for n in range(5):
        outcome = await caller.carry_out(vendor_port.port, lock, issue_call(kind, f"down-{n}"),
                                         lambda *_: vendor_port.secret(kind))
        details.append(outcome.detail or "")
    assert all("circuit_open" not in d for d in details[:3]), details
    assert all("circuit_open" in d for d in details[3:]), "an open breaker must not call the vendor"
    assert caller.breaker_states() == {f"{lock.tenant}/{lock.vendor}": "open"}

    await vendor_port.admin.delete("/sandbox/faults")
    clock.now += 31
    probe = await caller.carry_out(vendor_port.port, lock, issue_call(kind, "probe"),
                                   lambda *_: vendor_port.secret(kind))
    assert probe.ok, probe.detail
    assert caller.breaker_states() == {f"{lock.tenant}/{lock.vendor}": "closed"}
