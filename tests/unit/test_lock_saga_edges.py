"""Edges of the per-lock saga: what dead letters and lock events carry, re-drives and updates that start afresh,
checkouts of stays already revoked, the offline fallback's patience, and what a master-key shift is told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.credential import CredentialKind, LockRef, OfflineFallback, Validity
from app.domain.lock_event import LockAction, LockCommand, LockEvent, LockEventType, RetryDue, ShiftRef
from app.domain.lock_saga import (
    CredentialStatus,
    DeadLetter,
    LockSaga,
    Output,
    RetryPolicy,
    VendorCall,
    VendorOutcome,
    due_retries,
    new_saga,
    settled_report,
    step_lock_saga,
)
from tests.builders import command, lock, validity

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
STAY = "t1/p1/R1"
SHIFT = ShiftRef(tenant="t1", property="p1", shift_id="s1")


def step(saga: LockSaga, item: LockCommand | RetryDue | VendorOutcome, now: datetime = NOW,
         policy: RetryPolicy | None = None) -> tuple[LockSaga, list[Output]]:
    return step_lock_saga(saga, item, now, policy)


def only_call(outputs: list[Output]) -> VendorCall:
    (call,) = outputs
    assert isinstance(call, VendorCall)
    return call


def answer(call: VendorCall, ok: bool = True, **changes: object) -> VendorOutcome:
    fields: dict[str, object] = {"vendor_ref": "passcode:1"} if ok else {"error_cause": "vendor_unavailable"}
    return VendorOutcome(action=call.action, stay=call.record.stay, idempotency_key=call.record.idempotency_key,
                         ok=ok, **{**fields, **changes})


def transient(call: VendorCall, **changes: object) -> VendorOutcome:
    return answer(call, ok=False, retryable=True, retry_delay_s=5, **changes)


def events(outputs: list[Output]) -> list[LockEvent]:
    return [o for o in outputs if isinstance(o, LockEvent)]


def letters(outputs: list[Output]) -> list[DeadLetter]:
    return [o for o in outputs if isinstance(o, DeadLetter)]


def issued(cmd: LockCommand | None = None) -> LockSaga:
    cmd = cmd or command(LockAction.ISSUE)
    saga, outputs = step(new_saga(cmd.lock), cmd)
    saga, _ = step(saga, answer(only_call(outputs)))
    return saga


def issued_after_one_retry() -> LockSaga:
    """An issued credential whose record still counts the one failed attempt it took to get there."""
    saga, outputs = step(new_saga(lock()), command(LockAction.ISSUE))
    saga, _ = step(saga, transient(only_call(outputs)))
    (due,) = due_retries(saga, NOW + timedelta(seconds=5))
    saga, outputs = step(saga, due)
    saga, _ = step(saga, answer(only_call(outputs)))
    assert saga.credentials[STAY].attempts == 1
    return saga


def round_trips(saga: LockSaga) -> bool:
    """The saga lives in a changelog table: what it writes must read back as the same state."""
    return LockSaga.model_validate_json(saga.model_dump_json()) == saga


# -- what a dead letter's command carries, for ``lis dlq replay`` ---------------------------------------------------

def test_a_dead_lettered_issue_carries_the_stays_window_guest_and_kind_for_the_replay() -> None:
    issue = command(LockAction.ISSUE).model_copy(update={"kind": CredentialKind.MOBILE_KEY, "mobile_account": "ab12"})
    saga, outputs = step(new_saga(lock()), issue)
    _, outputs = step(saga, answer(only_call(outputs), ok=False))
    (letter,) = letters(outputs)
    assert letter.command.validity == issue.validity
    assert (letter.command.guest_ref, letter.command.kind) == ("g_x", CredentialKind.MOBILE_KEY)


def test_a_dead_lettered_update_carries_the_window_it_asked_for_not_the_old_one() -> None:
    saga, outputs = step(issued(), command(LockAction.UPDATE, sequence=2, nights=4))
    _, outputs = step(saga, answer(only_call(outputs), ok=False))
    (letter,) = letters(outputs)
    assert letter.command.action is LockAction.UPDATE
    assert letter.command.validity == command(LockAction.UPDATE, nights=4).validity


def test_a_revoke_alert_dead_letters_a_bare_revoke_without_window_or_mobile_account() -> None:
    policy = RetryPolicy(max_attempts=1)
    mobile = command(LockAction.ISSUE).model_copy(update={"mobile_account": "ab12"})
    saga, outputs = step(issued(mobile), command(LockAction.REVOKE, sequence=2))
    _, outputs = step(saga, transient(only_call(outputs)), policy=policy)
    (letter,) = letters(outputs)
    assert letter.command.action is LockAction.REVOKE
    assert (letter.command.validity, letter.command.mobile_account) == (None, None)
    assert letter.command.guest_ref == "g_x"
    assert letter.reason == "revoke failed after 1 attempt(s): vendor_unavailable (-)"


@pytest.mark.parametrize(("detail", "shown"), [(None, "(-)"), ("http 503 from the cloud", "(http 503 from the cloud)")])
def test_a_dead_letter_reason_shows_the_vendors_detail_or_a_dash(detail: str | None, shown: str) -> None:
    saga, outputs = step(new_saga(lock()), command(LockAction.ISSUE))
    _, outputs = step(saga, answer(only_call(outputs), ok=False, detail=detail))
    (letter,) = letters(outputs)
    assert letter.reason == f"issue failed after 1 attempt(s): vendor_unavailable {shown}"


# -- what lock events carry --------------------------------------------------------------------------------------------

def test_lock_events_carry_the_guest_ref_credential_ref_cause_and_when_the_pms_asked() -> None:
    asked = NOW - timedelta(seconds=3)
    cmd = command(LockAction.ISSUE).model_copy(update={"requested_at": asked})
    saga, outputs = step(new_saga(lock()), cmd)
    saga, outputs = step(saga, answer(only_call(outputs)))
    (event,) = events(outputs)
    assert (event.guest_ref, event.credential_ref, event.cause, event.requested_at) == (
        "g_x", "passcode:1", "test:issue", asked)


def test_two_stays_issued_on_one_lock_get_different_event_ids() -> None:
    ids = set()
    for stay in ("t1/p1/R1", "t1/p1/R2"):
        saga, outputs = step(new_saga(lock()), command(LockAction.ISSUE, stay=stay))
        _, outputs = step(saga, answer(only_call(outputs)))
        ids |= {event.event_id for event in events(outputs)}
    assert len(ids) == 2


def test_a_revoke_alert_and_the_revoke_that_finally_lands_are_two_events() -> None:
    policy = RetryPolicy(max_attempts=1)
    saga, outputs = step(issued(), command(LockAction.REVOKE, sequence=2))
    call = only_call(outputs)
    saga, outputs = step(saga, transient(call), policy=policy)
    (alert,) = events(outputs)
    (due,) = due_retries(saga, NOW + timedelta(seconds=5))
    saga, outputs = step(saga, due, policy=policy)
    _, outputs = step(saga, answer(only_call(outputs), vendor_ref=None), policy=policy)
    (revoked,) = events(outputs)
    assert (alert.type, revoked.type) == (LockEventType.KEY_REVOKE_FAILED, LockEventType.KEY_REVOKED)
    assert alert.event_id != revoked.event_id


def test_a_revoked_event_gives_the_checkouts_cause_and_the_revoke_keeps_when_the_pms_asked() -> None:
    asked = NOW - timedelta(seconds=2)
    revoke = command(LockAction.REVOKE, sequence=2).model_copy(update={"requested_at": asked})
    saga, outputs = step(issued(), revoke)
    _, outputs = step(saga, answer(only_call(outputs), vendor_ref=None))
    (event,) = events(outputs)
    assert (event.type, event.cause, event.requested_at) == (LockEventType.KEY_REVOKED, "test:revoke", asked)


# -- re-drives and updates start with a full set of attempts -----------------------------------------------------------

def test_an_anti_entropy_re_drive_starts_with_fresh_attempts_and_its_own_cause() -> None:
    redrive = command(LockAction.ISSUE).model_copy(update={"replay": True, "cause": "reconcile:r1"})
    _, outputs = step(issued_after_one_retry(), redrive)
    call = only_call(outputs)
    assert (call.record.attempts, call.record.cause, call.reconcile) == (0, "reconcile:r1", True)


def test_an_update_starts_with_fresh_attempts_and_carries_its_sequence_cause_and_request_time() -> None:
    asked = NOW - timedelta(seconds=1)
    update = command(LockAction.UPDATE, sequence=2, nights=4).model_copy(update={"requested_at": asked})
    saga, outputs = step(issued_after_one_retry(), update)
    call = only_call(outputs)
    assert (call.record.attempts, call.record.sequence, call.record.cause) == (0, 2, "test:update")
    _, outputs = step(saga, answer(call))
    (event,) = events(outputs)
    assert (event.type, event.cause, event.requested_at) == (LockEventType.KEY_UPDATED, "test:update", asked)


def test_an_update_for_a_stay_the_lock_never_saw_issues_the_key_with_the_new_window() -> None:
    update = command(LockAction.UPDATE, nights=4)
    saga, outputs = step(new_saga(lock()), update)
    call = only_call(outputs)
    assert (call.action, call.record.validity) == (LockAction.ISSUE, update.validity)
    assert saga.credentials[STAY].status is CredentialStatus.ISSUING


def test_an_update_after_a_failed_issue_issues_the_key_again() -> None:
    saga, outputs = step(new_saga(lock()), command(LockAction.ISSUE))
    saga, _ = step(saga, answer(only_call(outputs), ok=False))
    update = command(LockAction.UPDATE, sequence=2, nights=4)
    _, outputs = step(saga, update)
    call = only_call(outputs)
    assert (call.action, call.record.validity, call.record.sequence) == (LockAction.ISSUE, update.validity, 2)


def test_an_update_with_the_sequence_of_a_failed_issue_is_not_acted_on_twice() -> None:
    saga, outputs = step(new_saga(lock()), command(LockAction.ISSUE))
    saga, _ = step(saga, answer(only_call(outputs), ok=False))
    assert step(saga, command(LockAction.UPDATE, sequence=1, nights=4)) == (saga, [])


# -- commands meeting a step in flight ---------------------------------------------------------------------------------

def test_a_replay_of_the_command_in_flight_waits_behind_it_instead_of_calling_again() -> None:
    issue = command(LockAction.ISSUE)
    saga, _ = step(new_saga(lock()), issue)
    replay = issue.model_copy(update={"replay": True})
    saga, outputs = step(saga, replay)
    assert outputs == []
    assert saga.credentials[STAY].queued == replay


def test_a_command_as_new_as_the_one_waiting_never_replaces_it() -> None:
    saga, outputs = step(new_saga(lock()), command(LockAction.ISSUE))
    saga, _ = step(saga, transient(only_call(outputs)))
    checkout = command(LockAction.REVOKE, sequence=2)
    saga, _ = step(saga, checkout)
    saga, outputs = step(saga, checkout.model_copy(update={"replay": True, "cause": "dlq replay"}))
    assert outputs == []
    assert saga.credentials[STAY].queued == checkout


def test_an_older_change_arriving_during_a_checkouts_revoke_is_dropped_not_applied_after_it() -> None:
    saga, outputs = step(issued(), command(LockAction.REVOKE, sequence=3))
    revoke = only_call(outputs)
    saga, outputs = step(saga, command(LockAction.UPDATE, sequence=2, nights=4))
    assert outputs == []
    _, outputs = step(saga, answer(revoke, vendor_ref=None))
    assert [type(o) for o in outputs] == [LockEvent], "nothing is issued again after the checkout"


def test_a_retry_tick_for_a_stay_the_lock_does_not_know_is_ignored() -> None:
    saga = issued()
    tick = RetryDue(lock=lock(), stay="t1/p1/R9", idempotency_key="nope", attempt=1, due_at=NOW)
    assert step(saga, tick) == (saga, [])


# -- checkouts of stays already revoked --------------------------------------------------------------------------------

def test_a_revoke_before_any_issue_remembers_its_cause_and_the_shift_to_report_to() -> None:
    revoke = command(LockAction.REVOKE, stay="master:s1").model_copy(update={"notify": SHIFT})
    saga, outputs = step(new_saga(lock()), revoke)
    assert outputs == []
    record = saga.credentials["master:s1"]
    assert (record.status, record.cause, record.notify) == (CredentialStatus.REVOKED, "test:revoke", SHIFT)
    assert settled_report(saga, "master:s1") == (LockAction.REVOKE, True)


def test_a_newer_checkout_of_a_revoked_stay_is_remembered_and_reported() -> None:
    saga, outputs = step(issued(), command(LockAction.REVOKE, sequence=2))
    saga, _ = step(saga, answer(only_call(outputs), vendor_ref=None))
    again = command(LockAction.REVOKE, sequence=4).model_copy(update={"notify": SHIFT})
    saga, outputs = step(saga, again)
    assert outputs == []
    record = saga.credentials[STAY]
    assert (record.status, record.sequence, record.notify) == (CredentialStatus.REVOKED, 4, SHIFT)
    assert step(saga, command(LockAction.ISSUE, sequence=3)) == (saga, []), "an older issue stays ignored"


def test_a_revoke_in_flight_keeps_the_shift_it_reports_to() -> None:
    revoke = command(LockAction.REVOKE, sequence=2).model_copy(update={"notify": SHIFT})
    saga, outputs = step(issued(), revoke)
    assert only_call(outputs).record.notify == SHIFT
    saga, _ = step(saga, answer(only_call(outputs), vendor_ref=None))
    assert settled_report(saga, STAY) == (LockAction.REVOKE, True)


# -- settling ----------------------------------------------------------------------------------------------------------

def test_an_outcome_that_settles_a_record_awaiting_its_retry_leaves_nothing_for_the_retry_timer() -> None:
    saga, outputs = step(new_saga(lock()), command(LockAction.ISSUE))
    call = only_call(outputs)
    saga, _ = step(saga, transient(call))
    saga, _ = step(saga, answer(call))
    assert saga.credentials[STAY].status is CredentialStatus.ISSUED
    assert due_retries(saga, NOW + timedelta(days=1)) == []


def test_a_carried_out_queued_checkout_leaves_nothing_queued_and_round_trips() -> None:
    saga, outputs = step(new_saga(lock()), command(LockAction.ISSUE))
    issue = only_call(outputs)
    saga, _ = step(saga, command(LockAction.REVOKE, sequence=2))
    saga, outputs = step(saga, answer(issue))
    revoke = next(o for o in outputs if isinstance(o, VendorCall))
    assert saga.credentials[STAY].queued is None
    saga, _ = step(saga, answer(revoke, vendor_ref=None))
    assert saga.credentials[STAY].queued is None
    assert round_trips(saga)


@pytest.mark.parametrize("action", [LockAction.ISSUE, LockAction.UPDATE, LockAction.REVOKE])
def test_every_settled_step_round_trips_through_the_changelog(action: LockAction) -> None:
    saga = issued() if action is not LockAction.ISSUE else new_saga(lock())
    saga, outputs = step(saga, command(action, sequence=2, nights=4))
    call = only_call(outputs)
    for ok in (True, False):
        settled, _ = step(saga, answer(call, ok=ok))
        assert round_trips(settled)


def test_a_failed_issue_keeps_the_vendors_detail_as_its_last_error() -> None:
    saga, outputs = step(new_saga(lock()), command(LockAction.ISSUE))
    call = only_call(outputs)
    with_detail, _ = step(saga, answer(call, ok=False, detail="lock is full (-4043)"))
    without, _ = step(saga, answer(call, ok=False))
    assert with_detail.credentials[STAY].last_error == "lock is full (-4043)"
    assert without.credentials[STAY].last_error == "vendor_unavailable"
    ok, _ = step(saga, answer(call))
    assert ok.credentials[STAY].last_error is None


def test_only_an_offline_code_replaces_the_asked_window_with_the_one_the_vendor_gave() -> None:
    saga, outputs = step(new_saga(lock()), command(LockAction.ISSUE))
    call = only_call(outputs)
    hours = Validity(starts_at=NOW, ends_at=NOW + timedelta(days=3))
    online, _ = step(saga, answer(call, validity=hours))
    offline, outputs = step(saga, answer(call, offline=True, validity=hours, sealed_code="ab12"))
    assert online.credentials[STAY].validity == call.record.validity
    assert offline.credentials[STAY].validity == hours
    assert events(outputs)[0].validity == hours


def test_revoking_an_offline_code_reports_the_revoked_credential_as_offline() -> None:
    saga, outputs = step(new_saga(lock()), command(LockAction.ISSUE))
    saga, _ = step(saga, answer(only_call(outputs), offline=True, sealed_code="ab12"))
    saga, outputs = step(saga, command(LockAction.REVOKE, sequence=2))
    _, outputs = step(saga, answer(only_call(outputs), vendor_ref=None))
    (event,) = events(outputs)
    assert (event.type, event.offline) == (LockEventType.KEY_REVOKED, True)


def test_a_failed_re_drive_with_a_checkout_queued_goes_on_with_the_checkout() -> None:
    redrive = command(LockAction.ISSUE).model_copy(update={"replay": True, "cause": "reconcile:r1"})
    saga, outputs = step(issued(), redrive)
    call = only_call(outputs)
    saga, _ = step(saga, transient(call))
    saga, _ = step(saga, command(LockAction.REVOKE, sequence=2))
    saga, outputs = step(saga, answer(call, ok=False))
    revoke = only_call(outputs)
    assert (revoke.action, revoke.record.vendor_ref) == (LockAction.REVOKE, "passcode:1")
    assert saga.credentials[STAY].queued is None
    assert due_retries(saga, NOW + timedelta(days=1)) == []


def test_a_failed_re_drive_leaves_nothing_for_the_retry_timer() -> None:
    redrive = command(LockAction.ISSUE).model_copy(update={"replay": True, "cause": "reconcile:r1"})
    saga, outputs = step(issued(), redrive)
    call = only_call(outputs)
    saga, _ = step(saga, transient(call))
    saga, outputs = step(saga, answer(call, ok=False))
    assert outputs == []
    assert (saga.credentials[STAY].status, saga.credentials[STAY].queued) == (CredentialStatus.ISSUED, None)
    assert due_retries(saga, NOW + timedelta(days=1)) == []


# -- an unreachable lock and the offline fallback's patience -----------------------------------------------------------

FALLBACK = OfflineFallback(after_minutes=15, arrival_within_minutes=60)


def fallback_lock() -> LockRef:
    return lock().model_copy(update={"offline_fallback": FALLBACK})


def unreachable(call: VendorCall, *, capable: bool, gateway: bool) -> VendorOutcome:
    return transient(call, unreachable=True, gateway_offline=gateway, offline_capable=capable,
                     detail="gateway_offline (-3002)" if gateway else "vendor_unavailable (http_503)")


def issue_on(target: LockRef, stay_window: Validity, now: datetime) -> tuple[LockSaga, VendorCall]:
    cmd = command(LockAction.ISSUE, target=target).model_copy(update={"validity": stay_window})
    saga, outputs = step(new_saga(target), cmd, now)
    return saga, only_call(outputs)


def test_without_a_fallback_an_unreachable_lock_spends_attempts_until_the_issue_fails() -> None:
    saga, call = issue_on(lock(), validity(start=NOW + timedelta(days=2)), NOW)
    saga, outputs = step(saga, unreachable(call, capable=True, gateway=True), policy=RetryPolicy(max_attempts=2))
    assert (outputs, saga.credentials[STAY].attempts) == ([], 1)
    _, outputs = step(saga, unreachable(call, capable=True, gateway=True), policy=RetryPolicy(max_attempts=2))
    assert [e.type for e in events(outputs)] == [LockEventType.KEY_ISSUE_FAILED]


def test_under_a_fallback_a_plain_vendor_error_still_spends_an_attempt() -> None:
    saga, call = issue_on(fallback_lock(), validity(start=NOW + timedelta(days=2)), NOW)
    saga, outputs = step(saga, transient(call))
    record = saga.credentials[STAY]
    assert (outputs, record.attempts, record.unreachable_since) == ([], 1, None)


def test_a_capable_vendor_that_is_itself_unreachable_says_why_the_key_is_late_instead_of_an_offline_code() -> None:
    saga, call = issue_on(fallback_lock(), validity(start=NOW + timedelta(minutes=30)), NOW)
    saga, outputs = step(saga, unreachable(call, capable=True, gateway=False))
    (delayed,) = outputs
    assert isinstance(delayed, LockEvent)
    assert delayed.type is LockEventType.KEY_ISSUE_DELAYED
    assert delayed.detail == ("vendor_unavailable (http_503); the vendor itself is unreachable: "
                              "retrying until it answers")


def test_waiting_for_a_vendor_without_offline_codes_during_the_stay_spends_no_attempts() -> None:
    saga, call = issue_on(fallback_lock(), validity(start=NOW + timedelta(minutes=30)), NOW)
    saga, outputs = step(saga, unreachable(call, capable=False, gateway=True))
    (delayed,) = outputs
    assert isinstance(delayed, LockEvent)
    assert delayed.detail == "gateway_offline (-3002); the vendor has no offline passcodes: retrying until it answers"
    assert saga.credentials[STAY].attempts == 0
    saga, outputs = step(saga, unreachable(call, capable=False, gateway=True), NOW + timedelta(minutes=5))
    assert (outputs, saga.credentials[STAY].attempts) == ([], 0)


def test_once_the_stay_has_ended_an_unreachable_issue_spends_its_attempts() -> None:
    window = validity(start=NOW - timedelta(days=2), nights=1)
    saga, call = issue_on(fallback_lock(), window, window.ends_at)
    saga, outputs = step(saga, unreachable(call, capable=False, gateway=True), window.ends_at)
    assert [e.type for e in events(outputs)] == [LockEventType.KEY_ISSUE_DELAYED]
    assert saga.credentials[STAY].attempts == 1
    saga, _ = step(saga, unreachable(call, capable=False, gateway=True), window.ends_at + timedelta(minutes=1))
    assert saga.credentials[STAY].attempts == 2


def test_while_the_offline_code_is_asked_for_no_retry_is_due() -> None:
    saga, call = issue_on(fallback_lock(), validity(start=NOW + timedelta(days=2)), NOW)
    saga, _ = step(saga, unreachable(call, capable=True, gateway=True))
    saga, outputs = step(saga, unreachable(call, capable=True, gateway=True), NOW + timedelta(minutes=16))
    assert only_call(outputs).offline
    assert due_retries(saga, NOW + timedelta(days=1)) == []


# -- what a master-key shift is told -----------------------------------------------------------------------------------

def master(action: LockAction, sequence: int) -> LockCommand:
    return command(action, stay="master:s1", sequence=sequence).model_copy(update={"notify": SHIFT})


def test_a_stay_that_asks_for_no_report_gets_none_and_an_unknown_stay_neither() -> None:
    saga = issued()
    assert settled_report(saga, STAY) is None
    assert settled_report(saga, "t1/p1/R9") is None


def settled_as(status: CredentialStatus) -> LockSaga:
    saga, outputs = step(new_saga(lock()), master(LockAction.ISSUE, 1))
    issue = only_call(outputs)
    if status is CredentialStatus.ISSUE_FAILED:
        return step(saga, answer(issue, ok=False))[0]
    saga, _ = step(saga, answer(issue))
    if status is CredentialStatus.ISSUED:
        return saga
    saga, outputs = step(saga, master(LockAction.REVOKE, 2))
    return step(saga, answer(only_call(outputs), ok=status is CredentialStatus.REVOKED, vendor_ref=None))[0]


@pytest.mark.parametrize(("status", "report"), [
    (CredentialStatus.ISSUED, (LockAction.ISSUE, True)),
    (CredentialStatus.ISSUE_FAILED, (LockAction.ISSUE, False)),
    (CredentialStatus.REVOKED, (LockAction.REVOKE, True)),
    (CredentialStatus.REVOKE_FAILED, (LockAction.REVOKE, False)),
])
def test_a_shift_hears_how_each_step_settled(status: CredentialStatus, report: tuple[LockAction, bool]) -> None:
    saga = settled_as(status)
    assert saga.credentials["master:s1"].status is status
    assert settled_report(saga, "master:s1") == report


def test_a_revoke_that_used_up_its_attempts_counts_as_failed_for_the_shift_though_it_goes_on() -> None:
    policy = RetryPolicy(max_attempts=2)
    saga = settled_as(CredentialStatus.ISSUED)
    saga, outputs = step(saga, master(LockAction.REVOKE, 2), policy=policy)
    call = only_call(outputs)
    saga, _ = step(saga, transient(call), policy=policy)
    assert settled_report(saga, "master:s1", policy) is None, "one failure: still in flight"
    saga, _ = step(saga, transient(call), policy=policy)
    assert saga.credentials["master:s1"].attempts == 2
    assert settled_report(saga, "master:s1", policy) == (LockAction.REVOKE, False)
    assert settled_report(saga, "master:s1") is None, "under the default policy it has attempts left"


def test_an_issue_that_needed_retries_still_reports_as_issued() -> None:
    saga, outputs = step(new_saga(lock()), master(LockAction.ISSUE, 1))
    call = only_call(outputs)
    saga, _ = step(saga, transient(call))
    saga, _ = step(saga, answer(call))
    assert saga.credentials["master:s1"].attempts == 1
    assert settled_report(saga, "master:s1", RetryPolicy(max_attempts=1)) == (LockAction.ISSUE, True)


# -- what the ops view shows of a record (tables/ops_views.py dumps it) ------------------------------------------------

def test_after_an_update_lands_the_record_shows_no_window_still_asked_for() -> None:
    saga, outputs = step(issued(), command(LockAction.UPDATE, sequence=2, nights=4))
    saga, _ = step(saga, answer(only_call(outputs)))
    record = saga.credentials[STAY]
    assert (record.validity, record.requested_validity) == (command(LockAction.UPDATE, nights=4).validity, None)


def test_a_checkout_that_fails_after_a_failed_update_shows_no_window_still_asked_for() -> None:
    saga, outputs = step(issued(), command(LockAction.UPDATE, sequence=2, nights=4))
    saga, _ = step(saga, answer(only_call(outputs), ok=False))
    saga, outputs = step(saga, command(LockAction.REVOKE, sequence=3))
    saga, _ = step(saga, answer(only_call(outputs), ok=False))
    record = saga.credentials[STAY]
    assert (record.status, record.requested_validity) == (CredentialStatus.REVOKE_FAILED, None)


def test_a_revoke_before_any_issue_shows_no_idempotency_key_since_nothing_was_sent_to_the_lock() -> None:
    saga, _ = step(new_saga(lock()), command(LockAction.REVOKE))
    assert saga.credentials[STAY].idempotency_key == ""
