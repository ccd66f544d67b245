"""The per-lock saga as a pure step function: ``step(saga, input, now) -> (saga, outputs)``.

The saga of one lock holds one record per stay. A command first records its intent and idempotency key (status
``issuing``/``revoking``/``updating``) and asks for a vendor call; the call's outcome settles the record and produces
the canonical lock event. A command that finds an intent already recorded is a replay after a crash: the vendor
call is asked for again with ``reconcile=True`` so the executor looks for the credential on the lock before acting.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from app.domain.credential import CredentialKind, Frozen, LockRef, Validity, credential_label
from app.domain.lock_event import LockAction, LockCommand, LockEvent, LockEventType, event_id


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
    cause: str = ""

    @property
    def label(self) -> str:
        return credential_label(self.idempotency_key)


class LockSaga(Frozen):
    lock: LockRef
    credentials: dict[str, CredentialRecord] = Field(default_factory=dict)


class VendorCall(Frozen):
    """Ask the executor to act on the vendor; ``reconcile`` means: look on the lock first, adopt what is there."""

    action: LockAction
    record: CredentialRecord
    reconcile: bool = False


class VendorOutcome(Frozen):
    """What happened at the vendor for a :class:`VendorCall`."""

    action: LockAction
    stay: str
    idempotency_key: str
    ok: bool
    vendor_ref: str | None = None
    error_cause: str | None = None
    detail: str | None = None


Output = VendorCall | LockEvent


def step(saga: LockSaga, item: LockCommand | VendorOutcome, now: datetime) -> tuple[LockSaga, list[Output]]:
    """Advance one lock's saga by one command or one vendor outcome."""
    if isinstance(item, LockCommand):
        return _on_command(saga, item)
    return _on_outcome(saga, item, now)


def new_saga(lock: LockRef) -> LockSaga:
    return LockSaga(lock=lock)


def _with(saga: LockSaga, record: CredentialRecord) -> LockSaga:
    return saga.model_copy(update={"credentials": {**saga.credentials, record.stay: record}})


def _on_command(saga: LockSaga, cmd: LockCommand) -> tuple[LockSaga, list[Output]]:
    current = saga.credentials.get(cmd.stay)
    if current is not None and cmd.sequence < current.sequence:
        return saga, []  # older than what this lock already applied for the stay
    if current is not None and current.status in IN_FLIGHT:
        # Replay after a crash between recording the intent and settling it.
        action = IN_FLIGHT[current.status]
        return saga, [VendorCall(action=action, record=current, reconcile=True)]
    if cmd.action is LockAction.ISSUE:
        return _issue(saga, cmd, current)
    if cmd.action is LockAction.UPDATE:
        if current is None or current.status is not CredentialStatus.ISSUED:
            return _issue(saga, cmd, current)
        if current.validity == cmd.validity:
            return saga, []
        record = current.model_copy(update={"status": CredentialStatus.UPDATING, "sequence": cmd.sequence,
                                            "requested_validity": cmd.validity, "cause": cmd.cause})
        return _with(saga, record), [VendorCall(action=LockAction.UPDATE, record=record)]
    return _revoke(saga, cmd, current)


def _issue(saga: LockSaga, cmd: LockCommand, current: CredentialRecord | None) -> tuple[LockSaga, list[Output]]:
    if current is not None and current.status is CredentialStatus.ISSUED:
        return saga, []  # already on the lock: a duplicate delivery
    if current is not None and current.sequence == cmd.sequence:
        return saga, []  # this very command was settled before (failed or revoked): never act twice
    record = CredentialRecord(
        stay=cmd.stay, sequence=cmd.sequence, idempotency_key=f"{saga.lock.key}|{cmd.stay}|{cmd.sequence}",
        status=CredentialStatus.ISSUING, kind=cmd.kind, validity=cmd.validity, guest_ref=cmd.guest_ref,
        cause=cmd.cause,
    )
    return _with(saga, record), [VendorCall(action=LockAction.ISSUE, record=record)]


def _revoke(saga: LockSaga, cmd: LockCommand, current: CredentialRecord | None) -> tuple[LockSaga, list[Output]]:
    if current is None:
        # Nothing was issued here: remember the revoke so a late, older issue is ignored.
        tombstone = CredentialRecord(stay=cmd.stay, sequence=cmd.sequence, idempotency_key="",
                                     status=CredentialStatus.REVOKED, kind=cmd.kind, cause=cmd.cause)
        return _with(saga, tombstone), []
    if current.status in (CredentialStatus.REVOKED, CredentialStatus.ISSUE_FAILED):
        return _with(saga, current.model_copy(update={"sequence": cmd.sequence})), []
    record = current.model_copy(update={"status": CredentialStatus.REVOKING, "sequence": cmd.sequence,
                                        "cause": cmd.cause})
    return _with(saga, record), [VendorCall(action=LockAction.REVOKE, record=record)]


_SETTLED = {
    (LockAction.ISSUE, True): (CredentialStatus.ISSUED, LockEventType.KEY_ISSUED),
    (LockAction.ISSUE, False): (CredentialStatus.ISSUE_FAILED, LockEventType.KEY_ISSUE_FAILED),
    (LockAction.UPDATE, True): (CredentialStatus.ISSUED, LockEventType.KEY_UPDATED),
    (LockAction.UPDATE, False): (CredentialStatus.ISSUED, LockEventType.KEY_UPDATE_FAILED),
    (LockAction.REVOKE, True): (CredentialStatus.REVOKED, LockEventType.KEY_REVOKED),
    (LockAction.REVOKE, False): (CredentialStatus.REVOKE_FAILED, LockEventType.KEY_REVOKE_FAILED),
}


def _on_outcome(saga: LockSaga, outcome: VendorOutcome, now: datetime) -> tuple[LockSaga, list[Output]]:
    current = saga.credentials.get(outcome.stay)
    if current is None or current.idempotency_key != outcome.idempotency_key or current.status not in IN_FLIGHT:
        return saga, []  # an outcome for an intent that is no longer current
    status, event_type = _SETTLED[(outcome.action, outcome.ok)]
    changes: dict[str, object] = {"status": status, "requested_validity": None}
    if outcome.vendor_ref is not None:
        changes["vendor_ref"] = outcome.vendor_ref
    if outcome.action is LockAction.UPDATE and outcome.ok:
        changes["validity"] = current.requested_validity
    record = current.model_copy(update=changes)
    lock = saga.lock
    event = LockEvent(
        event_id=event_id(f"{current.idempotency_key}|{current.sequence}", event_type), type=event_type,
        tenant=lock.tenant, region=lock.region, property=lock.property, lock_id=lock.lock_id, vendor=lock.vendor,
        stay=current.stay, guest_ref=current.guest_ref, credential_ref=record.vendor_ref, validity=record.validity,
        cause=current.cause if outcome.ok else f"{current.cause}: {outcome.error_cause}", detail=outcome.detail,
        occurred_at=now,
    )
    return _with(saga, record), [event]
