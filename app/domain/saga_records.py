"""The per-lock saga's state and messages: each stay's credential record on one lock, the vendor calls the saga
asks for and the outcomes it is told (the step function is in ``app/domain/lock_saga.py``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypedDict, Unpack

from pydantic import Field

from app.domain.credential import CredentialKind, Frozen, LockRef, OfflineFallback, Validity, credential_label
from app.domain.lock_event import LockAction, LockCommand, LockEvent, RetryDue, ShiftRef


class CredentialStatus(StrEnum):
    ISSUING = "issuing"
    ISSUED = "issued"
    ISSUE_FAILED = "issue_failed"
    UPDATING = "updating"
    REVOKING = "revoking"
    REVOKED = "revoked"
    REVOKE_FAILED = "revoke_failed"


IN_FLIGHT = {CredentialStatus.ISSUING: LockAction.ISSUE, CredentialStatus.UPDATING: LockAction.UPDATE,
             CredentialStatus.REVOKING: LockAction.REVOKE}


class CredentialRecord(Frozen):
    stay: str
    sequence: int
    idempotency_key: str
    status: CredentialStatus
    kind: CredentialKind
    validity: Validity | None = None
    requested_validity: Validity | None = None
    vendor_ref: str | None = None
    guest_ref: str | None = None
    mobile_account: str | None = None  # sealed, for a mobile key's vendor call
    cause: str = ""
    attempts: int = 0
    retry_at: datetime | None = None
    queued: LockCommand | None = None
    notify: ShiftRef | None = None
    last_error: str | None = None  # why the step in flight is waiting (e.g. "gateway_offline (-3002)")
    fallback: OfflineFallback | None = None  # the property's offline fallback when the key was asked for
    unreachable_since: datetime | None = None  # since when the issue has found the lock's gateway unreachable
    delay_noted: bool = False  # the wait beyond the fallback's patience was announced (key.issue_delayed)
    offline: bool = False  # the credential is an offline passcode (its window rounded to whole hours)
    sealed_code: str | None = None  # a passcode's digits (the PIN, or the offline code the vendor chose), sealed
    requested_at: datetime | None = None  # when the PMS event behind the step in flight reached the service

    @property
    def label(self) -> str:
        return credential_label(self.idempotency_key)


class RecordChanges(TypedDict, total=False):
    """The fields of a :class:`CredentialRecord` a saga step may change, typed (mypy checks every key and value;
    ``tests/unit/test_typed_changes.py`` keeps it in step with the model)."""

    sequence: int
    status: CredentialStatus
    validity: Validity | None
    requested_validity: Validity | None
    vendor_ref: str | None
    guest_ref: str | None
    mobile_account: str | None
    cause: str
    attempts: int
    retry_at: datetime | None
    queued: LockCommand | None
    notify: ShiftRef | None
    last_error: str | None
    unreachable_since: datetime | None
    delay_noted: bool
    offline: bool
    sealed_code: str | None
    requested_at: datetime | None


def changed_record(record: CredentialRecord, **changes: Unpack[RecordChanges]) -> CredentialRecord:
    """``record`` with ``changes``: the one way a saga step changes a credential record."""
    return record.model_copy(update=changes)


class LockSaga(Frozen):
    lock: LockRef
    credentials: dict[str, CredentialRecord] = Field(default_factory=dict)


KEPT_AFTER_STAY = timedelta(days=7)  # the broker's default retention: no redelivered command is older


def without_ended_stays(saga: LockSaga, now: datetime) -> LockSaga:
    """The saga without the settled records of stays whose window ended over :data:`KEPT_AFTER_STAY` ago.

    A lock's saga would otherwise grow by a record per stay for ever — a lobby door shared by every guest reaches
    Faust's 1 MB record limit after some 1,800 stays. A stay that long over can receive no command any more (the
    commands for it have left the topic), and a credential of it still listed on the lock has an ended window and no
    owner, so anti-entropy revokes it as stray. Records in flight, waiting on a queued command or with no window
    (a revoke's tombstone) are kept."""
    ended = [stay for stay, record in saga.credentials.items()
             if record.status not in IN_FLIGHT and record.queued is None and record.validity is not None
             and record.validity.ends_at + KEPT_AFTER_STAY < now]
    if not ended:
        return saga
    return LockSaga(lock=saga.lock, credentials={stay: record for stay, record in saga.credentials.items()
                                                 if stay not in ended})


class RetryPolicy(Frozen):
    """How many vendor attempts a saga step gets before it is settled as failed (revokes alert, then go on)."""

    max_attempts: int = 6


class VendorCall(Frozen):
    """Ask the executor to act on the vendor; ``reconcile`` means: look on the lock first, adopt what is there;
    ``offline``: issue an offline passcode (whole-hour window, no gateway needed) instead."""

    action: LockAction
    record: CredentialRecord
    reconcile: bool = False
    offline: bool = False


class VendorOutcome(Frozen):
    """What happened at the vendor for a :class:`VendorCall`; ``retry_delay_s`` is the jittered backoff to wait."""

    action: LockAction
    stay: str
    idempotency_key: str
    ok: bool
    vendor_ref: str | None = None
    error_cause: str | None = None
    detail: str | None = None
    retryable: bool = False
    retry_delay_s: float = 0.0
    spent_attempt: bool = True  # False when the call was never made (circuit open): it costs no attempt
    unreachable: bool = False  # the vendor or the lock's gateway could not be reached
    gateway_offline: bool = False  # the vendor said precisely: the lock's gateway is offline
    offline_capable: bool = False  # the vendor can give an offline passcode for this lock
    offline: bool = False  # an offline passcode was issued (``validity`` is its window, ``sealed_code`` its digits)
    validity: Validity | None = None
    sealed_code: str | None = None


class DeadLetter(Frozen):
    """A command the saga could not carry out, for ``lock.dlq`` (replayable with ``lis dlq replay``)."""

    command: LockCommand
    reason: str


Output = VendorCall | LockEvent | DeadLetter
Input = LockCommand | RetryDue | VendorOutcome
