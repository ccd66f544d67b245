"""The per-lock saga as a pure step function: ``step_lock_saga(saga, input, now) -> (saga, outputs)``.

The saga of one lock holds one record per stay. A command first records its intent and idempotency key (status
``issuing``/``revoking``/``updating``) and asks for a vendor call; the call's outcome settles the record and produces
the canonical lock event. A command that finds its own intent already recorded is a replay after a crash: the call is
asked for again with ``reconcile=True`` so the executor looks on the lock before acting.

A retryable failure does not block the lock: the record keeps its intent with ``retry_at`` set, and the retry timer
sends a :class:`RetryDue` when it is time. A newer command for the same stay that arrives meanwhile is queued on the
record and applied right after the in-flight action settles, so it is never lost and never overtakes it. A call that
exhausts its attempts settles as failed, emits the failure event and a dead letter; a revoke is never given up: it
alerts once and keeps retrying at the capped interval, because a departed guest's key must stop working.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from app.domain.credential import LockRef
from app.domain.lock_event import LockAction, LockCommand, LockEvent, LockEventType, RetryDue, event_id
from app.domain.offline_fallback import fallback_due
from app.domain.saga_records import (
    IN_FLIGHT,
    CredentialRecord,
    CredentialStatus,
    DeadLetter,
    Input,
    LockSaga,
    Output,
    RecordChanges,
    RetryPolicy,
    VendorCall,
    VendorOutcome,
    changed_record,
    without_ended_stays,
)

# The saga's records and messages are defined in app/domain/saga_records.py; the service takes them from here, with
# the step that moves them.
__all__ = [
    "IN_FLIGHT", "CredentialRecord", "CredentialStatus", "DeadLetter", "Input", "LockSaga", "Output", "RecordChanges",
    "RetryPolicy", "VendorCall", "VendorOutcome", "changed_record", "due_retries", "new_saga", "settled_report",
    "step_lock_saga",
]


def step_lock_saga(saga: LockSaga, item: Input, now: datetime, policy: RetryPolicy | None = None
         ) -> tuple[LockSaga, list[Output]]:
    """Advance one lock's saga by one command, retry tick or vendor outcome (dropping stays long over first)."""
    saga = without_ended_stays(saga, now)
    if isinstance(item, LockCommand):
        return _on_command(saga, item)
    if isinstance(item, RetryDue):
        return _on_retry(saga, item)
    return _on_outcome(saga, item, now, policy or RetryPolicy())


def new_saga(lock: LockRef) -> LockSaga:
    return LockSaga(lock=lock)


def settled_report(saga: LockSaga, stay: str, policy: RetryPolicy | None = None) -> tuple[LockAction, bool] | None:
    """For a stay whose record asks to be reported on: the settled step and whether it succeeded, or None while
    the step is still in flight. A revoke that has used up its attempts counts as failed, though it keeps trying."""
    record = saga.credentials.get(stay)
    if record is None or record.notify is None:
        return None
    if record.status is CredentialStatus.REVOKING and record.attempts >= (policy or RetryPolicy()).max_attempts:
        return LockAction.REVOKE, False
    if record.status in IN_FLIGHT:
        return None
    return {
        CredentialStatus.ISSUED: (LockAction.ISSUE, True),
        CredentialStatus.ISSUE_FAILED: (LockAction.ISSUE, False),
        CredentialStatus.REVOKED: (LockAction.REVOKE, True),
        CredentialStatus.REVOKE_FAILED: (LockAction.REVOKE, False),
    }[record.status]


def due_retries(saga: LockSaga, now: datetime) -> list[RetryDue]:
    """The delayed vendor calls of this lock whose time has come."""
    return [RetryDue(lock=saga.lock, stay=r.stay, idempotency_key=r.idempotency_key, attempt=r.attempts,
                     due_at=r.retry_at)
            for r in saga.credentials.values() if r.retry_at is not None and r.retry_at <= now]


def _with(saga: LockSaga, record: CredentialRecord) -> LockSaga:
    return LockSaga(lock=saga.lock, credentials={**saga.credentials, record.stay: record})


def _on_command(saga: LockSaga, cmd: LockCommand) -> tuple[LockSaga, list[Output]]:
    current = saga.credentials.get(cmd.stay)
    if current is not None and cmd.sequence < current.sequence:
        return saga, []  # older than what this lock already applied for the stay
    if current is not None and current.status in IN_FLIGHT:
        if cmd.sequence > current.sequence or (cmd.replay and cmd.sequence == current.sequence):
            if current.queued is not None and cmd.sequence <= current.queued.sequence:
                return saga, []  # a command as new or newer already waits (a checkout, say): never overwrite it
            return _with(saga, changed_record(current, queued=cmd)), []
        if current.retry_at is not None:
            return saga, []  # the retry timer owns this intent
        # The same command again: a replay after a crash between recording the intent and settling it.
        return saga, [VendorCall(action=IN_FLIGHT[current.status], record=current, reconcile=True)]
    if cmd.action is LockAction.ISSUE:
        return _issue(saga, cmd, current)
    if cmd.action is LockAction.UPDATE:
        if current is None or current.status is not CredentialStatus.ISSUED:
            return _issue(saga, cmd, current)
        if current.validity == cmd.validity:
            return saga, []
        record = changed_record(current, status=CredentialStatus.UPDATING, sequence=cmd.sequence,
                                requested_validity=cmd.validity, cause=cmd.cause, attempts=0,
                                requested_at=cmd.requested_at)
        return _with(saga, record), [VendorCall(action=LockAction.UPDATE, record=record)]
    return _revoke(saga, cmd, current)


def _issue(saga: LockSaga, cmd: LockCommand, current: CredentialRecord | None) -> tuple[LockSaga, list[Output]]:
    if current is not None and current.status is CredentialStatus.ISSUED:
        if cmd.replay and cmd.sequence == current.sequence:
            # Anti-entropy found it missing or changed on the lock: look there by label, put it back as recorded.
            record = changed_record(current, status=CredentialStatus.ISSUING, attempts=0, cause=cmd.cause)
            return _with(saga, record), [VendorCall(action=LockAction.ISSUE, record=record, reconcile=True)]
        return saga, []  # already on the lock: a duplicate delivery
    if current is not None and current.sequence == cmd.sequence and not cmd.replay:
        return saga, []  # this very command was settled before (failed or revoked): never act twice
    record = CredentialRecord(
        stay=cmd.stay, sequence=cmd.sequence, idempotency_key=f"{saga.lock.key}|{cmd.stay}|{cmd.sequence}",
        status=CredentialStatus.ISSUING, kind=cmd.kind, validity=cmd.validity, guest_ref=cmd.guest_ref,
        mobile_account=cmd.mobile_account, cause=cmd.cause, notify=cmd.notify,
        fallback=None if cmd.stay.startswith("master:") else cmd.lock.offline_fallback, requested_at=cmd.requested_at,
    )
    # A replayed command (``lis dlq replay``, ``lis audit-stream``) may follow an attempt that reached the lock:
    # it looks there first, by the label its idempotency key gives.
    return _with(saga, record), [VendorCall(action=LockAction.ISSUE, record=record, reconcile=cmd.replay)]


def _revoke(saga: LockSaga, cmd: LockCommand, current: CredentialRecord | None) -> tuple[LockSaga, list[Output]]:
    if current is None:
        # Nothing was issued here: remember the revoke so a late, older issue is ignored.
        tombstone = CredentialRecord(stay=cmd.stay, sequence=cmd.sequence, idempotency_key="",
                                     status=CredentialStatus.REVOKED, kind=cmd.kind, cause=cmd.cause,
                                     notify=cmd.notify)
        return _with(saga, tombstone), []
    if current.status is CredentialStatus.REVOKED:
        return _with(saga, changed_record(current, sequence=cmd.sequence, notify=cmd.notify)), []
    record = changed_record(current, status=CredentialStatus.REVOKING, sequence=cmd.sequence,
                            cause=cmd.cause, attempts=0, notify=cmd.notify, requested_at=cmd.requested_at)
    # An issue settled as failed may have landed all the same (its answer lost): look on the lock, revoke it there.
    reconcile = current.status is CredentialStatus.ISSUE_FAILED
    return _with(saga, record), [VendorCall(action=LockAction.REVOKE, record=record, reconcile=reconcile)]


def _on_retry(saga: LockSaga, due: RetryDue) -> tuple[LockSaga, list[Output]]:
    current = saga.credentials.get(due.stay)
    if current is None or current.idempotency_key != due.idempotency_key or current.status not in IN_FLIGHT:
        return saga, []  # settled or superseded
    if current.retry_at is not None and current.retry_at != due.due_at:
        return saga, []  # a tick of an earlier schedule, or a duplicate one
    # With no retry pending, the intent is in flight yet no step is carrying it out: every step ends with its call
    # settled or rescheduled, so the step this tick started died mid-call (its intent was made durable, its outcome
    # never written) and the tick is being delivered again. It must carry the call out again: nothing else would.
    record = changed_record(current, retry_at=None)
    # A retried call reconciles: the failed attempt (a timeout, say) may have reached the lock after all.
    return _with(saga, record), [VendorCall(action=IN_FLIGHT[current.status], record=record, reconcile=True)]


_SETTLED = {
    (LockAction.ISSUE, True): (CredentialStatus.ISSUED, LockEventType.KEY_ISSUED),
    (LockAction.ISSUE, False): (CredentialStatus.ISSUE_FAILED, LockEventType.KEY_ISSUE_FAILED),
    (LockAction.UPDATE, True): (CredentialStatus.ISSUED, LockEventType.KEY_UPDATED),
    (LockAction.UPDATE, False): (CredentialStatus.ISSUED, LockEventType.KEY_UPDATE_FAILED),
    (LockAction.REVOKE, True): (CredentialStatus.REVOKED, LockEventType.KEY_REVOKED),
    (LockAction.REVOKE, False): (CredentialStatus.REVOKE_FAILED, LockEventType.KEY_REVOKE_FAILED),
}


def _on_outcome(saga: LockSaga, outcome: VendorOutcome, now: datetime, policy: RetryPolicy
                ) -> tuple[LockSaga, list[Output]]:
    current = saga.credentials.get(outcome.stay)
    if current is None or current.idempotency_key != outcome.idempotency_key or current.status not in IN_FLIGHT:
        return saga, []  # an outcome for an intent that is no longer current
    if not outcome.ok and outcome.retryable:
        current = changed_record(current, last_error=outcome.detail or outcome.error_cause)
        if outcome.action is LockAction.ISSUE and (outcome.unreachable or current.unreachable_since is not None):
            return _unreachable(saga, changed_record(current, unreachable_since=current.unreachable_since or now),
                                outcome, now, policy)
        return _retry(saga, current, outcome, now, policy)
    return _settle(saga, current, outcome, now)


def _unreachable(saga: LockSaga, current: CredentialRecord, outcome: VendorOutcome, now: datetime,
                 policy: RetryPolicy) -> tuple[LockSaga, list[Output]]:
    """An issue that cannot reach the lock. Under a property's offline fallback it is not given up while the stay
    lasts (no attempt is spent): it waits for the gateway until the fallback is due, then asks for an offline
    passcode where the vendor has them, and otherwise says once why the key is late and goes on waiting."""
    assert current.unreachable_since is not None
    patient = current.fallback is not None and current.validity is not None and now < current.validity.ends_at
    if not fallback_due(current.fallback, current.kind, current.validity, current.unreachable_since, now):
        return _retry(saga, current, outcome, now, policy, spend=not patient)
    if outcome.gateway_offline and outcome.offline_capable:
        # Stop waiting: an offline passcode, looked for by its label first (an earlier answer may have been lost).
        record = changed_record(current, retry_at=None)
        return _with(saga, record), [VendorCall(action=LockAction.ISSUE, record=record, reconcile=True, offline=True)]
    if current.delay_noted:
        return _retry(saga, current, outcome, now, policy, spend=not patient)
    why = "the vendor has no offline passcodes" if not outcome.offline_capable else "the vendor itself is unreachable"
    noted = changed_record(current, delay_noted=True,
                           last_error=f"{outcome.detail or outcome.error_cause}; {why}: retrying until it answers")
    saga, outputs = _retry(saga, noted, outcome, now, policy, spend=not patient)
    delayed = _event(saga.lock, noted, outcome, LockEventType.KEY_ISSUE_DELAYED, now, detail=noted.last_error)
    return saga, [delayed, *outputs]


def _retry(saga: LockSaga, current: CredentialRecord, outcome: VendorOutcome, now: datetime, policy: RetryPolicy,
           *, spend: bool = True) -> tuple[LockSaga, list[Output]]:
    """Schedule the next attempt of a retryable failure, or settle it as failed once its attempts are spent (a
    revoke is never given up: it alerts once and goes on); ``spend=False``: this failure costs no attempt."""
    attempts = current.attempts + (1 if outcome.spent_attempt and spend else 0)
    if attempts >= policy.max_attempts and outcome.action is not LockAction.REVOKE:
        return _settle(saga, current, outcome, now)
    record = changed_record(current, attempts=attempts, retry_at=now + timedelta(seconds=outcome.retry_delay_s))
    alert: list[Output] = []
    if attempts == policy.max_attempts and outcome.spent_attempt:  # a revoke that keeps failing: alert once
        alert = [_event(saga.lock, current, outcome, LockEventType.KEY_REVOKE_FAILED, now),
                 DeadLetter(command=_command_of(saga.lock, current), reason=_reason(outcome, attempts))]
    return _with(saga, record), alert


def _settle(saga: LockSaga, current: CredentialRecord, outcome: VendorOutcome, now: datetime
            ) -> tuple[LockSaga, list[Output]]:
    """The step is over: record what the vendor holds now, emit the lock event, go on with a queued command."""
    if outcome.action is LockAction.ISSUE and not outcome.ok and current.vendor_ref is not None:
        return _settle_failed_redrive(saga, current)
    status, event_type = _SETTLED[(outcome.action, outcome.ok)]
    changes: RecordChanges = {"status": status, "retry_at": None, "queued": None, "last_error": None}
    if outcome.ok or outcome.action is not LockAction.UPDATE:
        # A failed update keeps the window it asked for: its answer may have been lost after it landed, and
        # anti-entropy must not take that window for drift and write the old one back.
        changes["requested_validity"] = None
    if outcome.vendor_ref is not None:
        changes["vendor_ref"] = outcome.vendor_ref
    if outcome.action is LockAction.UPDATE and outcome.ok:
        changes["validity"] = current.requested_validity
    if outcome.action is LockAction.ISSUE and outcome.ok:
        changes["unreachable_since"] = None
        changes["offline"], changes["sealed_code"] = outcome.offline, outcome.sealed_code
        if outcome.offline and outcome.validity is not None:
            changes["validity"] = outcome.validity  # the whole-hour window the offline code really has
    if not outcome.ok:
        changes["last_error"] = outcome.detail or outcome.error_cause
    record = changed_record(current, **changes)
    settled = _with(saga, record)
    outputs: list[Output] = [_event(saga.lock, record, outcome, event_type, now)]
    if not outcome.ok:
        outputs.append(DeadLetter(command=_command_of(saga.lock, current),
                                  reason=_reason(outcome, current.attempts + 1)))
    if current.queued is not None:
        settled, more = _on_command(settled, current.queued)
        outputs.extend(more)
    return settled, outputs


def _settle_failed_redrive(saga: LockSaga, current: CredentialRecord) -> tuple[LockSaga, list[Output]]:
    """A re-drive of an issued credential (anti-entropy found it missing) that failed: the record goes back to
    issued — the credential was issued and reported; the next sweep tries again — and no failure event is sent."""
    record = changed_record(current, status=CredentialStatus.ISSUED, retry_at=None, queued=None)
    settled = _with(saga, record)
    if current.queued is None:
        return settled, []
    return _on_command(settled, current.queued)


def _event(lock: LockRef, record: CredentialRecord, outcome: VendorOutcome, event_type: LockEventType,
           now: datetime, detail: str | None = None) -> LockEvent:
    return LockEvent(
        event_id=event_id(f"{record.idempotency_key}|{record.sequence}", event_type), type=event_type,
        tenant=lock.tenant, region=lock.region, property=lock.property, lock_id=lock.lock_id, vendor=lock.vendor,
        stay=record.stay, guest_ref=record.guest_ref, credential_ref=record.vendor_ref, validity=record.validity,
        cause=record.cause if outcome.ok else f"{record.cause}: {outcome.error_cause}",
        detail=detail or outcome.detail, offline=record.offline, sealed_code=record.sealed_code,
        requested_at=record.requested_at, occurred_at=now,
    )


def _command_of(lock: LockRef, record: CredentialRecord) -> LockCommand:
    action = IN_FLIGHT[record.status]
    validity = record.requested_validity if action is LockAction.UPDATE else record.validity
    return LockCommand(action=action, lock=lock, stay=record.stay, sequence=record.sequence, kind=record.kind,
                       validity=validity if action is not LockAction.REVOKE else None, guest_ref=record.guest_ref,
                       mobile_account=record.mobile_account if action is not LockAction.REVOKE else None,
                       cause=record.cause)


def _reason(outcome: VendorOutcome, attempts: int) -> str:
    return f"{outcome.action} failed after {attempts} attempt(s): {outcome.error_cause} ({outcome.detail or '-'})"
