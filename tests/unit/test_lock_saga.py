"""The per-lock saga step function, from tables of cases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.domain.lock_event import LockAction, LockEvent, LockEventType
from app.domain.lock_saga import CredentialStatus, LockSaga, VendorCall, VendorOutcome, new_saga, step
from tests.builders import command, lock

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


def run(saga: LockSaga, *items: object) -> tuple[LockSaga, list[object]]:
    outputs: list[object] = []
    for item in items:
        saga, out = step(saga, item, NOW)  # type: ignore[arg-type]
        outputs.extend(out)
    return saga, outputs


def settle(saga: LockSaga, call: VendorCall, ok: bool = True, ref: str | None = "passcode:1") -> VendorOutcome:
    return VendorOutcome(action=call.action, stay=call.record.stay, idempotency_key=call.record.idempotency_key,
                         ok=ok, vendor_ref=ref if ok else None, error_cause=None if ok else "vendor_unavailable")


def issued_saga() -> LockSaga:
    saga, (call,) = step(new_saga(lock()), command(LockAction.ISSUE), NOW)
    saga, _ = step(saga, settle(saga, call), NOW)  # type: ignore[arg-type]
    return saga


def test_issue_records_intent_before_asking_for_the_vendor_call() -> None:
    saga, outputs = step(new_saga(lock()), command(LockAction.ISSUE), NOW)
    record = saga.credentials["t1/p1/R1"]
    assert record.status is CredentialStatus.ISSUING
    assert record.idempotency_key == "t1/eu-west/door-101|t1/p1/R1|1"
    assert outputs == [VendorCall(action=LockAction.ISSUE, record=record)]


def test_successful_issue_settles_and_emits_key_issued_with_the_vendor_ref() -> None:
    saga = issued_saga()
    record = saga.credentials["t1/p1/R1"]
    assert record.status is CredentialStatus.ISSUED
    assert record.vendor_ref == "passcode:1"


@pytest.mark.parametrize(
    ("status_after", "second", "expected_outputs"),
    [
        ("issued", command(LockAction.ISSUE), []),  # duplicate delivery of the same command
        ("issued", command(LockAction.ISSUE, sequence=0), []),  # older command
        ("issued", command(LockAction.UPDATE, sequence=2, nights=2), []),  # same validity: nothing to do
    ],
)
def test_commands_that_change_nothing_make_no_vendor_call(status_after: str, second: object,
                                                          expected_outputs: list[object]) -> None:
    saga = issued_saga()
    assert saga.credentials["t1/p1/R1"].status.value == status_after
    _, outputs = step(saga, second, NOW)  # type: ignore[arg-type]
    assert outputs == expected_outputs


@pytest.mark.parametrize("action", [LockAction.ISSUE, LockAction.REVOKE, LockAction.UPDATE])
def test_replay_of_an_in_flight_intent_asks_to_reconcile_not_to_act_blindly(action: LockAction) -> None:
    saga, (first,) = step(new_saga(lock()), command(LockAction.ISSUE), NOW)
    assert isinstance(first, VendorCall)
    _, (again,) = step(saga, command(action, sequence=1), NOW)
    assert isinstance(again, VendorCall)
    assert again.reconcile is True
    assert again.action is LockAction.ISSUE
    assert again.record.idempotency_key == first.record.idempotency_key


def test_revoke_of_an_issued_credential_calls_the_vendor_with_its_ref() -> None:
    saga, (call,) = step(issued_saga(), command(LockAction.REVOKE, sequence=2), NOW)
    assert isinstance(call, VendorCall)
    assert call.action is LockAction.REVOKE
    assert call.record.vendor_ref == "passcode:1"
    saga, (event,) = step(saga, settle(saga, call, ref=None), NOW)
    assert isinstance(event, LockEvent)
    assert event.type is LockEventType.KEY_REVOKED
    assert saga.credentials["t1/p1/R1"].status is CredentialStatus.REVOKED


def test_revoke_before_any_issue_leaves_a_tombstone_that_blocks_the_late_issue() -> None:
    saga, outputs = step(new_saga(lock()), command(LockAction.REVOKE, sequence=2), NOW)
    assert outputs == []
    _, late = step(saga, command(LockAction.ISSUE, sequence=1), NOW)
    assert late == []


def test_failed_issue_emits_issue_failed_with_the_cause_and_is_not_retried_by_a_duplicate() -> None:
    saga, (call,) = step(new_saga(lock()), command(LockAction.ISSUE), NOW)
    saga, (event,) = step(saga, settle(saga, call, ok=False), NOW)  # type: ignore[arg-type]
    assert isinstance(event, LockEvent)
    assert event.type is LockEventType.KEY_ISSUE_FAILED
    assert "vendor_unavailable" in event.cause
    _, again = step(saga, command(LockAction.ISSUE), NOW)
    assert again == []


def test_update_changes_validity_only_when_the_vendor_confirms() -> None:
    saga, (call,) = step(issued_saga(), command(LockAction.UPDATE, sequence=2, nights=4), NOW)
    assert isinstance(call, VendorCall)
    before = saga.credentials["t1/p1/R1"].validity
    failed, (event,) = step(saga, settle(saga, call, ok=False), NOW)  # type: ignore[arg-type]
    assert event.type is LockEventType.KEY_UPDATE_FAILED  # type: ignore[union-attr]
    assert failed.credentials["t1/p1/R1"].validity == before
    done, (event,) = step(saga, settle(saga, call, ref="passcode:1"), NOW)
    assert event.type is LockEventType.KEY_UPDATED  # type: ignore[union-attr]
    assert done.credentials["t1/p1/R1"].validity == call.record.requested_validity


def test_event_ids_are_stable_across_replays_so_consumers_can_deduplicate() -> None:
    first = run(new_saga(lock()), command(LockAction.ISSUE))
    saga, (call,) = first
    _, (event_a,) = step(saga, settle(saga, call), NOW)  # type: ignore[arg-type]
    _, (event_b,) = step(saga, settle(saga, call), NOW)  # type: ignore[arg-type]
    assert event_a.event_id == event_b.event_id  # type: ignore[union-attr]


def test_outcome_for_a_superseded_intent_is_ignored() -> None:
    saga, (call,) = step(new_saga(lock()), command(LockAction.ISSUE), NOW)
    stale = VendorOutcome(action=LockAction.ISSUE, stay="t1/p1/R1", idempotency_key="other", ok=True,
                          vendor_ref="passcode:9")
    unchanged, outputs = step(saga, stale, NOW)
    assert outputs == []
    assert unchanged == saga
    assert isinstance(call, VendorCall)
