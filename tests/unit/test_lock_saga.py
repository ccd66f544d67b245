"""The per-lock saga step function, from tables of cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.lock_event import LockAction, LockEvent, LockEventType, RetryDue
from app.domain.lock_saga import (
    CredentialStatus,
    DeadLetter,
    LockSaga,
    RetryPolicy,
    VendorCall,
    VendorOutcome,
    due_retries,
    new_saga,
    step_lock_saga,
)
from tests.builders import command, lock

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


def run(saga: LockSaga, *items: object) -> tuple[LockSaga, list[object]]:
    outputs: list[object] = []
    for item in items:
        saga, out = step_lock_saga(saga, item, NOW)  # type: ignore[arg-type]
        outputs.extend(out)
    return saga, outputs


def settle(saga: LockSaga, call: VendorCall, ok: bool = True, ref: str | None = "passcode:1") -> VendorOutcome:
    return VendorOutcome(action=call.action, stay=call.record.stay, idempotency_key=call.record.idempotency_key,
                         ok=ok, vendor_ref=ref if ok else None, error_cause=None if ok else "vendor_unavailable")


def issued_saga() -> LockSaga:
    saga, (call,) = step_lock_saga(new_saga(lock()), command(LockAction.ISSUE), NOW)
    saga, _ = step_lock_saga(saga, settle(saga, call), NOW)  # type: ignore[arg-type]
    return saga


def test_issue_records_intent_before_asking_for_the_vendor_call() -> None:
    saga, outputs = step_lock_saga(new_saga(lock()), command(LockAction.ISSUE), NOW)
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
    _, outputs = step_lock_saga(saga, second, NOW)  # type: ignore[arg-type]
    assert outputs == expected_outputs


@pytest.mark.parametrize("action", [LockAction.ISSUE, LockAction.REVOKE, LockAction.UPDATE])
def test_replay_of_an_in_flight_intent_asks_to_reconcile_not_to_act_blindly(action: LockAction) -> None:
    saga, (first,) = step_lock_saga(new_saga(lock()), command(LockAction.ISSUE), NOW)
    assert isinstance(first, VendorCall)
    _, (again,) = step_lock_saga(saga, command(action, sequence=1), NOW)
    assert isinstance(again, VendorCall)
    assert again.reconcile is True
    assert again.action is LockAction.ISSUE
    assert again.record.idempotency_key == first.record.idempotency_key


def test_revoke_of_an_issued_credential_calls_the_vendor_with_its_ref() -> None:
    saga, (call,) = step_lock_saga(issued_saga(), command(LockAction.REVOKE, sequence=2), NOW)
    assert isinstance(call, VendorCall)
    assert call.action is LockAction.REVOKE
    assert call.record.vendor_ref == "passcode:1"
    saga, (event,) = step_lock_saga(saga, settle(saga, call, ref=None), NOW)
    assert isinstance(event, LockEvent)
    assert event.type is LockEventType.KEY_REVOKED
    assert saga.credentials["t1/p1/R1"].status is CredentialStatus.REVOKED


def test_revoke_before_any_issue_leaves_a_tombstone_that_blocks_the_late_issue() -> None:
    saga, outputs = step_lock_saga(new_saga(lock()), command(LockAction.REVOKE, sequence=2), NOW)
    assert outputs == []
    _, late = step_lock_saga(saga, command(LockAction.ISSUE, sequence=1), NOW)
    assert late == []


def test_failed_issue_emits_issue_failed_with_the_cause_and_is_not_retried_by_a_duplicate() -> None:
    saga, (call,) = step_lock_saga(new_saga(lock()), command(LockAction.ISSUE), NOW)
    saga, (event, letter) = step_lock_saga(saga, settle(saga, call, ok=False), NOW)  # type: ignore[arg-type]
    assert isinstance(event, LockEvent)
    assert event.type is LockEventType.KEY_ISSUE_FAILED
    assert isinstance(letter, DeadLetter)
    assert letter.command.action is LockAction.ISSUE
    assert "vendor_unavailable" in letter.reason
    assert "vendor_unavailable" in event.cause
    _, again = step_lock_saga(saga, command(LockAction.ISSUE), NOW)
    assert again == []


def test_a_checkout_of_a_failed_issue_looks_on_the_lock_and_revokes_what_landed() -> None:
    saga, (call,) = step_lock_saga(new_saga(lock()), command(LockAction.ISSUE), NOW)
    saga, _ = step_lock_saga(saga, settle(saga, call, ok=False), NOW)  # type: ignore[arg-type]
    saga, (revoke,) = step_lock_saga(saga, command(LockAction.REVOKE, sequence=2), NOW)
    assert isinstance(revoke, VendorCall)
    assert (revoke.action, revoke.reconcile) == (LockAction.REVOKE, True)
    assert saga.credentials["t1/p1/R1"].status is CredentialStatus.REVOKING


def test_a_checkout_of_an_issued_key_revokes_the_ref_it_knows() -> None:
    _, (revoke,) = step_lock_saga(issued_saga(), command(LockAction.REVOKE, sequence=2), NOW)
    assert isinstance(revoke, VendorCall)
    assert (revoke.action, revoke.reconcile) == (LockAction.REVOKE, False)


def test_a_replayed_issue_looks_on_the_lock_first() -> None:
    _, (call,) = step_lock_saga(new_saga(lock()), command(LockAction.ISSUE).model_copy(update={"replay": True}), NOW)
    assert isinstance(call, VendorCall)
    assert call.reconcile


def test_update_changes_validity_only_when_the_vendor_confirms() -> None:
    saga, (call,) = step_lock_saga(issued_saga(), command(LockAction.UPDATE, sequence=2, nights=4), NOW)
    assert isinstance(call, VendorCall)
    before = saga.credentials["t1/p1/R1"].validity
    failed, (event, _) = step_lock_saga(saga, settle(saga, call, ok=False), NOW)  # type: ignore[arg-type]
    assert event.type is LockEventType.KEY_UPDATE_FAILED  # type: ignore[union-attr]
    assert failed.credentials["t1/p1/R1"].validity == before
    done, (event,) = step_lock_saga(saga, settle(saga, call, ref="passcode:1"), NOW)
    assert event.type is LockEventType.KEY_UPDATED  # type: ignore[union-attr]
    assert done.credentials["t1/p1/R1"].validity == call.record.requested_validity


def test_event_ids_are_stable_across_replays_so_consumers_can_deduplicate() -> None:
    first = run(new_saga(lock()), command(LockAction.ISSUE))
    saga, (call,) = first
    _, (event_a,) = step_lock_saga(saga, settle(saga, call), NOW)  # type: ignore[arg-type]
    _, (event_b,) = step_lock_saga(saga, settle(saga, call), NOW)  # type: ignore[arg-type]
    assert event_a.event_id == event_b.event_id  # type: ignore[union-attr]


def test_outcome_for_a_superseded_intent_is_ignored() -> None:
    saga, (call,) = step_lock_saga(new_saga(lock()), command(LockAction.ISSUE), NOW)
    stale = VendorOutcome(action=LockAction.ISSUE, stay="t1/p1/R1", idempotency_key="other", ok=True,
                          vendor_ref="passcode:9")
    unchanged, outputs = step_lock_saga(saga, stale, NOW)
    assert outputs == []
    assert unchanged == saga
    assert isinstance(call, VendorCall)


def transient(call: VendorCall, delay: float = 5.0) -> VendorOutcome:
    return VendorOutcome(action=call.action, stay=call.record.stay, idempotency_key=call.record.idempotency_key,
                         ok=False, retryable=True, retry_delay_s=delay, error_cause="vendor_unavailable")


def test_a_retryable_failure_schedules_a_delayed_retry_instead_of_failing() -> None:
    saga, (call,) = step_lock_saga(new_saga(lock()), command(LockAction.ISSUE), NOW)
    saga, outputs = step_lock_saga(saga, transient(call), NOW)  # type: ignore[arg-type]
    record = saga.credentials["t1/p1/R1"]
    assert outputs == []
    assert record.status is CredentialStatus.ISSUING
    assert record.attempts == 1
    assert record.retry_at == NOW + timedelta(seconds=5)
    assert due_retries(saga, NOW) == []
    (due,) = due_retries(saga, NOW + timedelta(seconds=5))
    saga, (retry,) = step_lock_saga(saga, due, NOW)
    assert isinstance(retry, VendorCall)
    assert retry.reconcile is True, "a retry after a timeout must look on the lock first"


def test_issue_gives_up_after_max_attempts_with_a_failure_event_and_a_dead_letter() -> None:
    policy = RetryPolicy(max_attempts=3)
    saga, (call,) = step_lock_saga(new_saga(lock()), command(LockAction.ISSUE), NOW)
    outputs: list[object] = []
    for _ in range(3):
        saga, outputs = step_lock_saga(saga, transient(call), NOW, policy)  # type: ignore[arg-type]
        if outputs:
            break
        (due,) = due_retries(saga, NOW + timedelta(minutes=1))
        saga, (call,) = step_lock_saga(saga, due, NOW, policy)  # type: ignore[assignment]
    event, letter = outputs
    assert event.type is LockEventType.KEY_ISSUE_FAILED  # type: ignore[attr-defined]
    assert isinstance(letter, DeadLetter)
    assert "after 3 attempt(s)" in letter.reason
    assert saga.credentials["t1/p1/R1"].status is CredentialStatus.ISSUE_FAILED


def test_a_revoke_never_gives_up_it_alerts_once_and_keeps_retrying() -> None:
    policy = RetryPolicy(max_attempts=2)
    saga, (call,) = step_lock_saga(issued_saga(), command(LockAction.REVOKE, sequence=2), NOW)
    alerts = []
    for _ in range(4):
        saga, outputs = step_lock_saga(saga, transient(call), NOW, policy)  # type: ignore[arg-type]
        alerts.extend(outputs)
        (due,) = due_retries(saga, NOW + timedelta(minutes=1))
        saga, (call,) = step_lock_saga(saga, due, NOW, policy)  # type: ignore[assignment]
    assert [type(a).__name__ for a in alerts] == ["LockEvent", "DeadLetter"]
    assert alerts[0].type is LockEventType.KEY_REVOKE_FAILED  # type: ignore[attr-defined]
    assert saga.credentials["t1/p1/R1"].status is CredentialStatus.REVOKING


def test_a_checkout_during_a_pending_issue_retry_is_applied_right_after_the_issue_settles() -> None:
    saga, (call,) = step_lock_saga(new_saga(lock()), command(LockAction.ISSUE), NOW)
    saga, _ = step_lock_saga(saga, transient(call), NOW)  # type: ignore[arg-type]
    saga, outputs = step_lock_saga(saga, command(LockAction.REVOKE, sequence=2), NOW)
    assert outputs == [], "the revoke waits: it must not overtake the issue"
    (due,) = due_retries(saga, NOW + timedelta(seconds=5))
    saga, (retry,) = step_lock_saga(saga, due, NOW)
    saga, outputs = step_lock_saga(saga, settle(saga, retry), NOW)  # type: ignore[arg-type]
    issued, revoke = outputs
    assert issued.type is LockEventType.KEY_ISSUED  # type: ignore[union-attr]
    assert isinstance(revoke, VendorCall)
    assert revoke.action is LockAction.REVOKE
    assert revoke.record.vendor_ref == "passcode:1"


def test_dead_letter_replay_tries_a_failed_issue_again() -> None:
    saga, (call,) = step_lock_saga(new_saga(lock()), command(LockAction.ISSUE), NOW)
    saga, (_, letter) = step_lock_saga(saga, settle(saga, call, ok=False), NOW)  # type: ignore[arg-type]
    assert isinstance(letter, DeadLetter)
    _, outputs = step_lock_saga(saga, letter.command.model_copy(update={"replay": True}), NOW)
    (again,) = outputs
    assert isinstance(again, VendorCall)
    assert again.action is LockAction.ISSUE


def test_retry_ticks_for_superseded_attempts_are_ignored() -> None:
    saga, (call,) = step_lock_saga(new_saga(lock()), command(LockAction.ISSUE), NOW)
    saga, _ = step_lock_saga(saga, transient(call), NOW)  # type: ignore[arg-type]
    stale = RetryDue(lock=lock(), stay="t1/p1/R1", idempotency_key=call.record.idempotency_key, attempt=0,
                     due_at=NOW - timedelta(minutes=5))
    assert step_lock_saga(saga, stale, NOW)[1] == []


def test_a_record_rescheduled_later_in_its_life_gets_its_retry_tick_again() -> None:
    saga, (call,) = step_lock_saga(new_saga(lock()), command(LockAction.ISSUE), NOW)
    saga, _ = step_lock_saga(saga, transient(call), NOW)  # type: ignore[arg-type]
    (first,) = due_retries(saga, NOW + timedelta(seconds=5))
    saga, (retry,) = step_lock_saga(saga, first, NOW)
    saga, _ = step_lock_saga(saga, settle(saga, retry), NOW)  # type: ignore[arg-type]
    saga, (revoke,) = step_lock_saga(saga, command(LockAction.REVOKE, sequence=2), NOW)
    later = NOW + timedelta(minutes=1)
    saga, _ = step_lock_saga(saga, transient(revoke), later)  # type: ignore[arg-type]
    (second,) = due_retries(saga, later + timedelta(seconds=5))
    assert second.attempt == first.attempt, "same attempt number, different schedule"
    assert second.due_at != first.due_at
    _, (call_again,) = step_lock_saga(saga, second, later)
    assert isinstance(call_again, VendorCall)
    assert call_again.action is LockAction.REVOKE


def test_a_call_refused_by_an_open_breaker_costs_no_attempt() -> None:
    saga, (call,) = step_lock_saga(new_saga(lock()), command(LockAction.ISSUE), NOW)
    refused = transient(call, delay=12).model_copy(update={"spent_attempt": False, "error_cause": "circuit_open"})
    saga, outputs = step_lock_saga(saga, refused, NOW, RetryPolicy(max_attempts=1))  # type: ignore[arg-type]
    record = saga.credentials["t1/p1/R1"]
    assert outputs == []
    assert (record.attempts, record.retry_at) == (0, NOW + timedelta(seconds=12))


# -- anti-entropy re-drives (app/domain/reconcile.py) ------------------------------------------------------------------

def redrive(sequence: int = 1) -> object:
    return command(LockAction.ISSUE, sequence=sequence).model_copy(update={"replay": True, "cause": "reconcile:r1"})


def test_a_second_re_drive_never_overwrites_a_checkout_queued_behind_the_first() -> None:
    saga, (call,) = step_lock_saga(issued_saga(), redrive(), NOW)  # type: ignore[arg-type]
    saga, _ = step_lock_saga(saga, transient(call), NOW)  # the re-drive waits for a retry
    saga, _ = step_lock_saga(saga, command(LockAction.REVOKE, sequence=2), NOW)  # the guest checks out meanwhile
    saga, outputs = step_lock_saga(saga, redrive(), NOW)  # type: ignore[arg-type]  # another sweep re-drives again
    assert outputs == []
    assert saga.credentials["t1/p1/R1"].queued is not None
    assert saga.credentials["t1/p1/R1"].queued.action is LockAction.REVOKE  # type: ignore[union-attr]


def test_a_failed_re_drive_of_an_issued_credential_goes_back_to_issued_without_a_failure_event() -> None:
    saga, (call,) = step_lock_saga(issued_saga(), redrive(), NOW)  # type: ignore[arg-type]
    saga, outputs = step_lock_saga(saga, settle(saga, call, ok=False), NOW)  # type: ignore[arg-type]
    assert outputs == []
    assert saga.credentials["t1/p1/R1"].status is CredentialStatus.ISSUED
    assert saga.credentials["t1/p1/R1"].vendor_ref == "passcode:1"
    _, (update,) = step_lock_saga(saga, command(LockAction.UPDATE, sequence=2, nights=4), NOW)
    assert isinstance(update, VendorCall)
    assert update.action is LockAction.UPDATE, "a later change would issue a second credential"


def test_a_failed_update_keeps_the_window_it_asked_for() -> None:
    saga, (call,) = step_lock_saga(issued_saga(), command(LockAction.UPDATE, sequence=2, nights=4), NOW)
    saga, _ = step_lock_saga(saga, settle(saga, call, ok=False), NOW)  # type: ignore[arg-type]
    record = saga.credentials["t1/p1/R1"]
    assert record.status is CredentialStatus.ISSUED
    assert record.requested_validity == command(LockAction.UPDATE, nights=4).validity


def test_a_dead_lettered_mobile_key_issue_keeps_its_sealed_account_for_the_replay() -> None:
    issue = command(LockAction.ISSUE).model_copy(update={"mobile_account": "ab12"})
    saga, (call,) = step_lock_saga(new_saga(lock()), issue, NOW)
    _, outputs = step_lock_saga(saga, settle(saga, call, ok=False), NOW, RetryPolicy(max_attempts=1))  # type: ignore[arg-type]
    (letter,) = [o for o in outputs if isinstance(o, DeadLetter)]
    assert letter.command.mobile_account == "ab12"


def test_a_retry_tick_delivered_again_after_its_step_died_mid_call_carries_the_call_out_again() -> None:
    """The checkout's revoke waits behind an issue retry; the worker dies during the retried call. Its durable
    intent (retry cleared, revoke queued) is all the next owner has; the re-delivered tick must call again, or the
    issue stays in flight forever and the departed guest keeps the key (the chaos run's unrevoked door, issue 20)."""
    saga, (call,) = step_lock_saga(new_saga(lock()), command(LockAction.ISSUE), NOW)
    saga, _ = step_lock_saga(saga, transient(call), NOW)  # type: ignore[arg-type]
    saga, _ = step_lock_saga(saga, command(LockAction.REVOKE, sequence=2), NOW)
    (due,) = due_retries(saga, NOW + timedelta(seconds=5))
    durable_intent, (_call,) = step_lock_saga(saga, due, NOW)  # written and flushed before the call; then SIGKILL
    assert durable_intent.credentials["t1/p1/R1"].retry_at is None
    saga, (again,) = step_lock_saga(durable_intent, due, NOW)  # the same tick, delivered again to the next owner
    assert isinstance(again, VendorCall)
    assert (again.action, again.reconcile) == (LockAction.ISSUE, True), "it looks on the lock first"
    saga, outputs = step_lock_saga(saga, settle(saga, again), NOW)  # type: ignore[arg-type]
    issued, revoke = outputs
    assert issued.type is LockEventType.KEY_ISSUED  # type: ignore[union-attr]
    assert isinstance(revoke, VendorCall)
    assert revoke.action is LockAction.REVOKE, "the queued checkout is not lost"


def test_a_retry_tick_delivered_twice_after_its_call_settled_does_nothing() -> None:
    saga, (call,) = step_lock_saga(new_saga(lock()), command(LockAction.ISSUE), NOW)
    saga, _ = step_lock_saga(saga, transient(call), NOW)  # type: ignore[arg-type]
    (due,) = due_retries(saga, NOW + timedelta(seconds=5))
    saga, (retry,) = step_lock_saga(saga, due, NOW)
    rescheduled, _ = step_lock_saga(saga, transient(retry, delay=9), NOW)  # type: ignore[arg-type]
    assert step_lock_saga(rescheduled, due, NOW)[1] == [], "rescheduled: the old tick is stale"
    settled, _ = step_lock_saga(saga, settle(saga, retry), NOW)  # type: ignore[arg-type]
    assert step_lock_saga(settled, due, NOW)[1] == [], "settled: nothing to do"


def test_a_stay_over_for_more_than_a_week_leaves_the_saga_unless_something_is_still_in_flight() -> None:
    """A lobby door's saga gets a record for every guest of the hotel: without this it would pass Faust's 1 MB record
    limit after some 1,800 stays and could not be written any more."""
    saga = issued_saga()  # R1: two nights from ARRIVAL
    saga, (call,) = step_lock_saga(saga, command(LockAction.ISSUE, stay="t1/p1/R2"), NOW)
    saga, _ = step_lock_saga(saga, transient(call), NOW)  # type: ignore[arg-type]  # R2's issue waits for a retry
    ends = saga.credentials["t1/p1/R1"].validity.ends_at  # type: ignore[union-attr]
    week_on = ends + timedelta(days=7)
    kept, _ = step_lock_saga(saga, command(LockAction.ISSUE, stay="t1/p1/R3"), week_on - timedelta(minutes=1))
    assert set(kept.credentials) == {"t1/p1/R1", "t1/p1/R2", "t1/p1/R3"}, "not yet a week over"
    pruned, _ = step_lock_saga(saga, command(LockAction.ISSUE, stay="t1/p1/R3"), week_on + timedelta(minutes=1))
    assert set(pruned.credentials) == {"t1/p1/R2", "t1/p1/R3"}, "R2 is in flight: kept whatever its window"
