"""Anti-entropy for one lock, as pure functions: what the lock's listing shows against what its saga holds.

The owner of the lock's partition compares the vendor's listing with the saga (never a stale copy of it), so the
verdict cannot race a vendor call in flight; records with an intent in flight are the saga's business and skipped.

* ``stray`` — a credential with our label prefix that no record of the lock owns (planted, or left by a revoke that
  went wrong): revoked on the lock;
* ``duplicates`` — more copies than one under a label we own: every copy but the record's own is revoked;
* ``missing`` — a record settled ``issued`` whose label the lock does not hold (removed behind our back): re-issued;
* ``drifted`` — the lock holds our credential with another window than the record's: brought back in line;
* ``landed`` — a record settled ``issue_failed`` whose credential is on the lock after all (its answer was lost):
  adopted, so the saga knows the key it has to revoke later.

A repair re-drives the stay's own command with ``replay=True``: the saga looks on the lock by label first, adopts
what is there (correcting its window) or issues it again, and settles as before.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime

from app.domain.credential import Frozen, IssuedCredential, LockRef
from app.domain.lock_event import LockAction, LockCommand
from app.domain.lock_saga import IN_FLIGHT, CredentialRecord, CredentialStatus, LockSaga

SCHEMA_VERSION = 1
LABEL_PREFIX = "lis-"
_OWNING = {CredentialStatus.ISSUED, CredentialStatus.ISSUE_FAILED, *IN_FLIGHT}


class ReconcileLock(Frozen):
    """On ``lock.commands``, keyed by the lock: compare the lock's listing with its saga; repair unless ``dry_run``."""

    type: Literal["reconcile"] = "reconcile"
    lock: LockRef
    run_id: str
    dry_run: bool = False


class Drift(Frozen):
    stray: tuple[IssuedCredential, ...] = ()
    duplicates: tuple[IssuedCredential, ...] = ()
    missing: tuple[str, ...] = ()  # stays
    drifted: tuple[str, ...] = ()
    landed: tuple[str, ...] = ()

    @property
    def clean(self) -> bool:
        return not (self.stray or self.duplicates or self.missing or self.drifted or self.landed)

    def counts(self) -> dict[str, int]:
        return {"stray": len(self.stray), "duplicates": len(self.duplicates), "missing": len(self.missing),
                "drifted": len(self.drifted), "landed": len(self.landed)}


class LockReconciled(Frozen):
    """On ``lock.events`` (schema ``lock.events.reconciled.v1``): one lock's verdict in a reconcile run."""

    type: Literal["lock.reconciled"] = "lock.reconciled"
    version: int = SCHEMA_VERSION
    run_id: str
    tenant: str
    region: str
    property: str
    lock_id: str
    vendor: str
    dry_run: bool
    listed: int | None  # credentials the lock listed; None when it cannot list (nothing judged)
    stray: tuple[str, ...] = ()  # labels
    duplicates: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()  # stays
    drifted: tuple[str, ...] = ()
    landed: tuple[str, ...] = ()
    repaired: bool = False
    detail: str | None = None
    occurred_at: AwareDatetime


def find_drift(saga: LockSaga, listed: list[IssuedCredential], now: datetime) -> Drift:
    """The differences between the lock's listing and its saga. A credential whose window has ended is not missing:
    a vendor may stop listing it (a Wiegand encoder forgets expired cards), and it must not be put back."""
    owners = {r.label: r for r in saga.credentials.values() if r.idempotency_key and r.status in _OWNING}
    by_label: dict[str, list[IssuedCredential]] = {}
    for credential in listed:
        by_label.setdefault(credential.label, []).append(credential)
    stray, duplicates, missing, drifted, landed = [], [], [], [], []
    for label, copies in by_label.items():
        record = owners.get(label)
        if record is None:
            stray += copies if label.startswith(LABEL_PREFIX) else []
            continue
        if record.status in IN_FLIGHT:
            continue
        keep = next((c for c in copies if c.vendor_ref == record.vendor_ref), copies[0])
        duplicates += [c for c in copies if c is not keep]
        if record.status is CredentialStatus.ISSUE_FAILED:
            landed.append(record.stay)
        elif keep.validity is not None and keep.validity not in (record.validity, record.requested_validity):
            drifted.append(record.stay)  # (a failed update's window may have landed all the same: not drift)
    missing = [r.stay for r in owners.values() if r.status is CredentialStatus.ISSUED and r.label not in by_label
               and (r.validity is None or r.validity.ends_at > now)]
    return Drift(stray=tuple(stray), duplicates=tuple(duplicates), missing=tuple(sorted(missing)),
                 drifted=tuple(sorted(drifted)), landed=tuple(sorted(landed)))


def repairs(saga: LockSaga, drift: Drift, run_id: str, *, remote: bool) -> list[LockCommand]:
    """The re-driven commands that adopt what landed and, where the vendor puts credentials on the lock remotely,
    put back what is missing or drifted. A Wiegand card is written at a desk encoder and its window is on the card:
    missing and drifted cards are reported, not written again onto whatever card lies on the encoder."""
    stays = sorted({*drift.landed, *((*drift.missing, *drift.drifted) if remote else ())})
    return [_redrive(saga.lock, saga.credentials[stay], run_id) for stay in stays]


def _redrive(lock: LockRef, record: CredentialRecord, run_id: str) -> LockCommand:
    return LockCommand(action=LockAction.ISSUE, lock=lock, stay=record.stay, sequence=record.sequence,
                       kind=record.kind, validity=record.validity, guest_ref=record.guest_ref,
                       mobile_account=record.mobile_account, cause=f"reconcile:{run_id}", replay=True,
                       notify=None)


def verdict(command: ReconcileLock, drift: Drift | None, listed: int | None, *, repaired: bool, now: AwareDatetime,
            detail: str | None = None) -> LockReconciled:
    lock, found = command.lock, drift or Drift()
    return LockReconciled(run_id=command.run_id, tenant=lock.tenant, region=lock.region, property=lock.property,
                          lock_id=lock.lock_id, vendor=lock.vendor, dry_run=command.dry_run, listed=listed,
                          stray=tuple(c.label for c in found.stray),
                          duplicates=tuple(c.label for c in found.duplicates),
                          missing=found.missing, drifted=found.drifted, landed=found.landed, repaired=repaired,
                          detail=detail, occurred_at=now)
