"""The saga's vendor call executor on every adapter: a clashing PIN is replaced, the circuit breaker fails fast
while a vendor is down and closes again after a good probe, and an answer lost after the vendor acted never leaves a
second credential or a live one after checkout."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.domain.breaker import BreakerSettings
from app.domain.credential import CredentialKind, IssueRequest, LockRef, Validity
from app.domain.errors import DuplicateCredential
from app.domain.lock_event import LockAction, LockCommand
from app.domain.lock_saga import CredentialRecord, CredentialStatus, RetryPolicy, VendorCall, new_saga, step_lock_saga
from app.vendor_calls import RetrySettings, VendorCaller
from tests.builders import stay_to_come
from tests.contract.harness import FixedMaterial, VendorHarness

START = stay_to_come()  # a window still to come: a sandbox lists no card whose window has ended


def issue_call(kind: CredentialKind, key: str, stay: str | None = None) -> VendorCall:
    record = CredentialRecord(stay=stay or f"t/p/{key}", sequence=1, idempotency_key=key,
                              status=CredentialStatus.ISSUING, kind=kind,
                              validity=Validity(starts_at=START, ends_at=START + timedelta(days=2)))
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
                                             issue_call(CredentialKind.PASSCODE, "dup-1"), FixedMaterial(secret))
    assert outcome.ok, outcome.detail
    (credential,) = await vendor_port.sandbox_credentials(vendor_port.lock(0))
    assert credential.label.startswith("lis-")
    assert outcome.sealed_code == "sealed:654321", "the front desk gets the PIN that landed, not the one that clashed"


async def test_a_master_key_shifts_staff_code_is_never_sealed_for_the_front_desk(vendor_port: VendorHarness) -> None:
    if CredentialKind.PASSCODE not in vendor_port.port.capabilities.kinds:
        pytest.skip(f"{vendor_port.vendor} has no passcodes (capability kinds)")
    call = issue_call(CredentialKind.PASSCODE, "staff-1", stay="master:shift-1")
    outcome = await VendorCaller().carry_out(vendor_port.port, vendor_port.lock(0), call,
                                             FixedMaterial(lambda *_: "24681357"))
    assert outcome.ok, outcome.detail
    assert outcome.sealed_code is None, "a code that opens every door must not reach a front-desk view"


async def test_the_breaker_fails_fast_while_the_vendor_is_down_and_closes_after_a_good_probe(
    vendor_port: VendorHarness,
) -> None:
    clock = Clock()
    caller = VendorCaller(retry=RetrySettings(quick_attempts=1),
                          breaker=BreakerSettings(window_s=60, min_calls=3, failure_rate=0.5, open_s=30), clock=clock)
    kind = vendor_port.default_kind
    lock = vendor_port.lock(2)
    await vendor_port.inject("malformed", rate=1.0)  # every vendor has it: answers that are not the vendor's
    details = []
    for n in range(5):
        outcome = await caller.carry_out(vendor_port.port, lock, issue_call(kind, f"down-{n}"),
                                         FixedMaterial(lambda *_: vendor_port.secret(kind)))
        details.append(outcome.detail or "")
    assert all("circuit_open" not in d for d in details[:3]), details
    assert all("circuit_open" in d for d in details[3:]), "an open breaker must not call the vendor"
    assert caller.breaker_states() == {f"{lock.tenant}/{lock.vendor}": "open"}

    await vendor_port.admin.delete("/sandbox/faults")
    clock.now += 31
    probe = await caller.carry_out(vendor_port.port, lock, issue_call(kind, "probe"),
                                   FixedMaterial(lambda *_: vendor_port.secret(kind)))
    assert probe.ok, probe.detail
    assert caller.breaker_states() == {f"{lock.tenant}/{lock.vendor}": "closed"}


async def test_a_gateway_out_of_reach_is_an_answer_that_never_opens_the_tenants_breaker(
    vendor_port: VendorHarness,
) -> None:
    caller = VendorCaller(retry=RetrySettings(quick_attempts=1),
                          breaker=BreakerSettings(window_s=60, min_calls=3, failure_rate=0.5, open_s=30), clock=Clock())
    kind, lock = vendor_port.default_kind, vendor_port.lock(2)
    await vendor_port.take_gateway_offline(lock)
    outcomes = [await caller.carry_out(vendor_port.port, lock, issue_call(kind, f"unreachable-{n}"),
                                       FixedMaterial(lambda *_: vendor_port.secret(kind))) for n in range(5)]
    if not outcomes[0].gateway_offline:
        pytest.skip(f"{vendor_port.vendor} does not say a gateway is offline apart from being down itself")
    assert all(o.gateway_offline and o.unreachable and not o.ok for o in outcomes)
    assert caller.breaker_states() == {f"{lock.tenant}/{lock.vendor}": "closed"}, \
        "one hotel's gateway says nothing about the vendor: the other locks' calls go on"


# -- answers lost after the vendor acted: label first, never a second credential ------------------------------------

async def arm_or_skip(vendor_port: VendorHarness, mode: str, **options: Any) -> None:
    try:
        await vendor_port.inject(mode, **options)
    except httpx.HTTPStatusError:
        pytest.skip(f"{vendor_port.vendor}'s sandbox has no {mode} (a serial line has no 5xx: its garbled answer "
                    f"is the malformed mode)")


def derived_secret(vendor_port: VendorHarness, kind: CredentialKind) -> FixedMaterial:
    """Like the runtime's: the same record and PIN attempt always give the same secret."""
    return FixedMaterial(lambda lock, record, attempt: vendor_port.make_secret(kind, 7000 + attempt))


@pytest.mark.parametrize("mode", ["executed_then_5xx", "executed_then_timeout", "timeout"])
async def test_an_issue_whose_answer_is_lost_after_it_landed_leaves_exactly_one_credential(
    vendor_port: VendorHarness, mode: str,
) -> None:
    """The default caller (two quick attempts) looks on the lock by label before its second attempt — also after a
    plain ``timeout``, which the vendor carries out late, after the client gave up."""
    await arm_or_skip(vendor_port, mode, rate=1.0, count=1, latency_ms=1500)
    port = vendor_port.make_port(timeout_s=0.5) if mode != "executed_then_5xx" else vendor_port.port
    kind, lock = vendor_port.default_kind, vendor_port.lock(0)
    call = issue_call(kind, f"lost-{mode}")
    outcome = await VendorCaller().carry_out(port, lock, call, derived_secret(vendor_port, kind))
    assert outcome.ok, outcome.detail
    await asyncio.sleep(1.6)  # past the held answer: nothing more lands
    held = [c for c in await vendor_port.sandbox_credentials(lock, include_cloud_only=True)
            if c.label == call.record.label]
    assert len(held) == 1, f"{len(held)} credentials labelled {call.record.label}"
    if kind is CredentialKind.PASSCODE:  # the retry found the first attempt's PIN on the lock: its digits are known
        assert outcome.sealed_code == f"sealed:{vendor_port.make_secret(kind, 7000)}"


async def test_a_revoke_removes_every_credential_carrying_the_label(vendor_port: VendorHarness) -> None:
    """Two credentials under one label (a late-landing duplicate): the revoke settles only when none is left."""
    kind, lock = vendor_port.default_kind, vendor_port.lock(1)
    call = issue_call(kind, "twice")
    for n in range(2):
        request = IssueRequest(lock=lock, kind=kind, validity=call.record.validity, label=call.record.label,
                               secret=vendor_port.make_secret(kind, 8000 + n))
        try:
            await vendor_port.port.issue(request)
        except DuplicateCredential:
            pytest.skip(f"{vendor_port.vendor} refuses a second credential under one label: nothing to clean")
    if not vendor_port.port.capabilities.lists_credentials:
        pytest.skip(f"{vendor_port.vendor} cannot list: a revoke can only remove the ref it knows")
    revoke = VendorCall(action=LockAction.REVOKE, record=call.record, reconcile=True)
    outcome = await VendorCaller().carry_out(vendor_port.port, lock, revoke, derived_secret(vendor_port, kind))
    assert outcome.ok, outcome.detail
    live = [c for c in await vendor_port.sandbox_credentials(lock)
            if c.label == call.record.label and not c.revocation_pending]
    assert live == []


async def test_a_checkout_after_an_issue_failed_whose_issue_landed_late_revokes_it(vendor_port: VendorHarness) -> None:
    """The saga settles the issue as failed (the vendor answered too late), the credential lands afterwards; the
    checkout must still look on the lock and revoke it."""
    if not vendor_port.port.capabilities.remote_revoke:
        pytest.skip(f"{vendor_port.vendor} cannot revoke remotely (capability remote_revoke)")
    kind, lock = vendor_port.default_kind, vendor_port.lock(2)
    port, caller = vendor_port.make_port(timeout_s=0.5), VendorCaller(retry=RetrySettings(quick_attempts=1))
    policy, now = RetryPolicy(max_attempts=1), datetime.now(UTC)
    command = LockCommand(action=LockAction.ISSUE, lock=lock, stay="t/p/late", sequence=1, kind=kind,
                          validity=Validity(starts_at=START, ends_at=START + timedelta(days=2)), cause="test")
    await port.list_credentials(lock)  # signed in: the fault hits the issue, not the token request
    # Lands after the client gave up; on Salto, on the step that puts the user on the door.
    only = "POST /api/v1/users/{id}/accessrights" if vendor_port.vendor == "salto" else None
    await vendor_port.inject("timeout", rate=1.0, count=1, latency_ms=1000, only=only)
    saga, [call] = step_lock_saga(new_saga(lock), command, now, policy)
    outcome = await caller.carry_out(port, lock, call, derived_secret(vendor_port, kind))
    saga, _ = step_lock_saga(saga, outcome, now, policy)
    assert saga.credentials["t/p/late"].status is CredentialStatus.ISSUE_FAILED
    await asyncio.sleep(1.2)
    landed = await vendor_port.sandbox_credentials(lock, include_cloud_only=True)
    assert len(landed) == 1, "the late issue did not land: nothing proven"

    checkout = command.model_copy(update={"action": LockAction.REVOKE, "sequence": 2, "validity": None})
    saga, calls = step_lock_saga(saga, checkout, now, policy)
    assert calls, "a checkout of an issue_failed record made no vendor call"
    saga, _ = step_lock_saga(saga, await caller.carry_out(port, lock, calls[0], derived_secret(vendor_port, kind)), now,
                        policy)
    assert saga.credentials["t/p/late"].status is CredentialStatus.REVOKED
    left = await vendor_port.sandbox_credentials(lock, include_cloud_only=True)
    assert [c for c in left if not c.revocation_pending] == []
