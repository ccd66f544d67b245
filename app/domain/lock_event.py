"""Commands to one lock's saga and the canonical lock events it emits for downstream services.

Event ids are derived from the idempotency key and the event type, so a replay after a crash re-emits the same id
and consumers can de-duplicate. Lock events carry a pseudonymous guest reference, never guest PII.
"""

from __future__ import annotations

import builtins
import hashlib
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime

from app.domain.credential import CredentialKind, Frozen, LockRef, Validity

SCHEMA_VERSION = 1


class LockAction(StrEnum):
    ISSUE = "issue"
    REVOKE = "revoke"
    UPDATE = "update"


class ShiftRef(Frozen):
    """A master-key shift of one property, which a lock step reports back to on ``ops.commands``."""

    tenant: str
    property: str
    shift_id: str

    @builtins.property
    def key(self) -> str:
        return f"{self.tenant}/{self.property}"


class LockCommand(Frozen):
    """What the reservation flow asks of one lock for one stay; keyed by the lock on ``lock.commands``.

    ``replay`` is set by ``lis dlq replay``: it asks the saga to try again a command it had settled as failed."""

    type: Literal["command"] = "command"
    action: LockAction
    lock: LockRef
    stay: str
    sequence: int
    kind: CredentialKind = CredentialKind.PASSCODE
    validity: Validity | None = None
    guest_ref: str | None = None
    mobile_account: str | None = None  # the guest's mobile-key account, sealed with the tenant's key
    cause: str
    replay: bool = False
    notify: ShiftRef | None = None  # the master-key shift to report to when this step settles
    requested_at: AwareDatetime | None = None  # when the PMS event asking for it reached the service (latency SLIs)


class RetryDue(Frozen):
    """Sent on ``lock.commands`` by the retry timer: attempt ``attempt`` of a delayed vendor call is due."""

    type: Literal["retry"] = "retry"
    lock: LockRef
    stay: str
    idempotency_key: str
    attempt: int
    due_at: AwareDatetime  # the retry_at it answers: a tick for an earlier schedule of the same record is stale


class LockEventType(StrEnum):
    KEY_ISSUED = "key.issued"
    KEY_ISSUE_FAILED = "key.issue_failed"
    KEY_REVOKED = "key.revoked"
    KEY_REVOKE_FAILED = "key.revoke_failed"
    KEY_UPDATED = "key.updated"
    KEY_UPDATE_FAILED = "key.update_failed"
    KEY_ISSUE_DELAYED = "key.issue_delayed"  # the lock stays unreachable past the fallback's patience; still trying


class LockEvent(Frozen):
    """A canonical event on ``lock.events`` (schema version :data:`SCHEMA_VERSION`)."""

    event_id: str
    type: LockEventType
    version: int = SCHEMA_VERSION
    tenant: str
    region: str
    property: str
    lock_id: str
    vendor: str
    stay: str
    guest_ref: str | None
    credential_ref: str | None
    validity: Validity | None
    cause: str
    detail: str | None = None
    offline: bool = False  # the credential is an offline passcode: ``validity`` is its whole-hour window
    sealed_code: str | None = None  # a passcode's digits (PIN or offline code), sealed with the tenant's key
    requested_at: AwareDatetime | None = None  # when the PMS event this answers reached the service
    occurred_at: AwareDatetime


def event_id(idempotency_key: str, event_type: LockEventType) -> str:
    return hashlib.sha256(f"{idempotency_key}|{event_type}".encode()).hexdigest()[:32]
