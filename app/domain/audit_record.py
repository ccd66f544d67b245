"""Audit records: every saga decision and vendor call outcome, as published on ``lock.audit`` (keyed by tenant).

Record ids are derived from what the record says happened, so a replay after a crash publishes the same id again and
the audit sink stores it once. Records carry pseudonymous references only, never guest PII: subject deletion does
not touch the Merkle tree.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from app.domain.credential import Frozen, LockRef
from app.domain.lock_event import LockEvent
from app.domain.lock_saga import VendorCall
from app.domain.reconcile import LockReconciled


class AuditRecord(Frozen):
    record_id: str
    tenant: str
    region: str
    property: str | None = None
    lock_id: str | None = None
    stay: str | None = None
    actor: str
    action: str
    outcome: str
    credential_ref: str | None = None
    guest_ref: str | None = None
    cause: str
    detail: str | None = None
    occurred_at: datetime


def _record_id(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def audit_intent(lock: LockRef, call: VendorCall, now: datetime, actor: str = "lis-worker") -> AuditRecord:
    """The decision to call the vendor, recorded before the call."""
    record = call.record
    action = f"{call.action}.{'reconcile' if call.reconcile else 'intent'}"
    return AuditRecord(
        record_id=_record_id(record.idempotency_key, str(record.sequence), action), tenant=lock.tenant,
        region=lock.region, property=lock.property, lock_id=lock.lock_id, stay=record.stay, actor=actor,
        action=action, outcome="decided", credential_ref=record.vendor_ref, guest_ref=record.guest_ref,
        cause=record.cause, occurred_at=now,
    )


def audit_outcome(event: LockEvent, actor: str = "lis-worker") -> AuditRecord:
    """What the vendor call achieved, as the canonical lock event says."""
    return AuditRecord(
        record_id=_record_id(event.event_id, "outcome"), tenant=event.tenant, region=event.region,
        property=event.property, lock_id=event.lock_id, stay=event.stay, actor=actor, action=str(event.type),
        outcome="failed" if event.type.endswith("_failed") else "ok", credential_ref=event.credential_ref,
        guest_ref=event.guest_ref, cause=event.cause, detail=event.detail, occurred_at=event.occurred_at,
    )


def audit_reconciled(report: LockReconciled, actor: str = "lis-worker") -> AuditRecord:
    """One lock's anti-entropy verdict that found drift or could not judge: what was found, and whether repaired."""
    found = {name: list(getattr(report, name)) for name in ("stray", "duplicates", "missing", "drifted", "landed")}
    outcome = "failed" if report.listed is None else "repaired" if report.repaired else "reported"
    return AuditRecord(
        record_id=_record_id(report.run_id, report.tenant, report.lock_id, "reconciled"), tenant=report.tenant,
        region=report.region, property=report.property, lock_id=report.lock_id, actor=actor,
        action="lock.reconciled", outcome=outcome, cause=f"reconcile:{report.run_id}",
        detail=report.detail or json.dumps({k: v for k, v in found.items() if v}, sort_keys=True),
        occurred_at=report.occurred_at,
    )
