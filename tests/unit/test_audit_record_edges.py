"""Audit records on ``lock.audit``: what each one says about a vendor call decided, its outcome and an anti-entropy
verdict, who is named as actor, and that distinct facts get distinct record ids while a replay gets the same."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.audit_record import audit_intent, audit_outcome, audit_reconciled
from app.domain.credential import CredentialKind
from app.domain.lock_event import LockAction, LockEvent, LockEventType
from app.domain.lock_saga import CredentialRecord, CredentialStatus, VendorCall
from app.domain.reconcile import LockReconciled
from tests.builders import lock

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def record(sequence: int = 1, stay: str = "t1/p1/R1") -> CredentialRecord:
    return CredentialRecord(stay=stay, sequence=sequence, idempotency_key=f"{lock().key}|{stay}|1",
                            status=CredentialStatus.ISSUING, kind=CredentialKind.PASSCODE, vendor_ref="passcode:7",
                            guest_ref="g_x", cause="pms:checked_in")


def call(action: LockAction = LockAction.ISSUE, *, reconcile: bool = False, sequence: int = 1,
         stay: str = "t1/p1/R1") -> VendorCall:
    return VendorCall(action=action, record=record(sequence, stay), reconcile=reconcile)


def test_an_intent_record_names_the_lock_stay_refs_cause_and_the_worker_as_actor() -> None:
    audited = audit_intent(lock(), call(), NOW)
    assert audited.model_dump(exclude={"record_id"}) == {
        "tenant": "t1", "region": "eu-west", "property": "p1", "lock_id": "door-101", "stay": "t1/p1/R1",
        "actor": "lis-worker", "action": "issue.intent", "outcome": "decided", "credential_ref": "passcode:7",
        "guest_ref": "g_x", "cause": "pms:checked_in", "detail": None, "occurred_at": NOW,
    }


def test_a_call_that_looks_on_the_lock_first_is_audited_as_a_reconcile() -> None:
    assert audit_intent(lock(), call(LockAction.REVOKE, reconcile=True), NOW).action == "revoke.reconcile"


def test_an_intent_replayed_after_a_crash_gets_the_same_record_id() -> None:
    assert audit_intent(lock(), call(), NOW).record_id == audit_intent(lock(), call(), NOW + timedelta(1)).record_id


@pytest.mark.parametrize(("first", "second"), [
    (call(), call(reconcile=True)),  # the intent and the reconcile of one step
    (call(LockAction.UPDATE, sequence=2), call(LockAction.UPDATE, sequence=3)),  # two updates of one credential
    (call(stay="t1/p1/R1"), call(stay="t1/p1/R2")),  # two stays
])
def test_distinct_decisions_get_distinct_record_ids(first: VendorCall, second: VendorCall) -> None:
    assert audit_intent(lock(), first, NOW).record_id != audit_intent(lock(), second, NOW).record_id


def event(event_type: LockEventType, event_id: str = "e1") -> LockEvent:
    return LockEvent(event_id=event_id, type=event_type, tenant="t1", region="eu-west", property="p1",
                     lock_id="door-101", vendor="ttlock", stay="t1/p1/R1", guest_ref="g_x",
                     credential_ref="passcode:7", validity=None, cause="pms:checked_in: vendor_unavailable",
                     detail="http 503", occurred_at=NOW)


def test_an_outcome_record_says_what_the_lock_event_says_and_names_the_worker() -> None:
    audited = audit_outcome(event(LockEventType.KEY_ISSUE_FAILED))
    assert audited.model_dump(exclude={"record_id"}) == {
        "tenant": "t1", "region": "eu-west", "property": "p1", "lock_id": "door-101", "stay": "t1/p1/R1",
        "actor": "lis-worker", "action": "key.issue_failed", "outcome": "failed", "credential_ref": "passcode:7",
        "guest_ref": "g_x", "cause": "pms:checked_in: vendor_unavailable", "detail": "http 503", "occurred_at": NOW,
    }


@pytest.mark.parametrize(("event_type", "outcome"), [
    (LockEventType.KEY_ISSUED, "ok"), (LockEventType.KEY_REVOKED, "ok"), (LockEventType.KEY_UPDATED, "ok"),
    (LockEventType.KEY_ISSUE_DELAYED, "ok"), (LockEventType.KEY_ISSUE_FAILED, "failed"),
    (LockEventType.KEY_REVOKE_FAILED, "failed"), (LockEventType.KEY_UPDATE_FAILED, "failed"),
])
def test_an_outcome_is_failed_exactly_for_the_failure_events(event_type: LockEventType, outcome: str) -> None:
    assert audit_outcome(event(event_type)).outcome == outcome


def test_each_lock_event_gets_its_own_outcome_record_id_and_a_replay_the_same() -> None:
    first, again, other = (audit_outcome(event(LockEventType.KEY_ISSUED, i)) for i in ("e1", "e1", "e2"))
    assert first.record_id == again.record_id
    assert first.record_id != other.record_id


def report(**changes: object) -> LockReconciled:
    fields: dict[str, object] = {
        "run_id": "run-1", "tenant": "t1", "region": "eu-west", "property": "p1", "lock_id": "door-101",
        "vendor": "ttlock", "dry_run": False, "listed": 3, "occurred_at": NOW,
    }
    return LockReconciled.model_validate({**fields, **changes})


def test_a_reconcile_verdict_record_lists_what_was_found_by_kind_in_name_order() -> None:
    audited = audit_reconciled(report(stray=("lis-a",), missing=("R1", "R2"), landed=("R3",), repaired=True))
    assert audited.model_dump(exclude={"record_id", "detail"}) == {
        "tenant": "t1", "region": "eu-west", "property": "p1", "lock_id": "door-101", "stay": None,
        "actor": "lis-worker", "action": "lock.reconciled", "outcome": "repaired", "credential_ref": None,
        "guest_ref": None, "cause": "reconcile:run-1", "occurred_at": NOW,
    }
    assert audited.detail == '{"landed": ["R3"], "missing": ["R1", "R2"], "stray": ["lis-a"]}'


def test_every_kind_of_drift_appears_in_the_verdict_record() -> None:
    found = {"stray": ("lis-a",), "duplicates": ("lis-b",), "missing": ("R1",), "drifted": ("R2",),
             "landed": ("R3",)}
    detail = audit_reconciled(report(**found)).detail
    assert json.loads(detail or "") == {kind: list(values) for kind, values in found.items()}


@pytest.mark.parametrize(("changes", "outcome"), [
    ({"listed": None, "detail": "lock_unreachable: timeout"}, "failed"),
    ({"listed": None, "repaired": True, "detail": "x"}, "failed"),
    ({"missing": ("R1",), "repaired": True}, "repaired"),
    ({"missing": ("R1",), "dry_run": True}, "reported"),
])
def test_a_verdict_is_failed_when_the_lock_could_not_list_else_repaired_or_reported(
        changes: dict[str, object], outcome: str) -> None:
    assert audit_reconciled(report(**changes)).outcome == outcome


def test_a_verdict_that_could_not_judge_says_why_instead_of_listing_drift() -> None:
    audited = audit_reconciled(report(listed=None, detail="lock_unreachable: timeout"))
    assert audited.detail == "lock_unreachable: timeout"


@pytest.mark.parametrize("other", [{"run_id": "run-2"}, {"tenant": "t2"}, {"lock_id": "door-102"}])
def test_each_lock_of_each_run_and_tenant_gets_its_own_verdict_record_id(other: dict[str, object]) -> None:
    first = audit_reconciled(report(missing=("R1",)))
    assert first.record_id == audit_reconciled(report(missing=("R1",))).record_id, "a replay: the same id"
    assert first.record_id != audit_reconciled(report(missing=("R1",), **other)).record_id


def test_record_ids_do_not_change_between_releases_so_a_newer_worker_replaying_a_step_is_stored_once() -> None:
    """Golden ids: a worker of the next release that takes over a partition re-emits the records of the step it
    replays, and the sink (and its Merkle tree) dedupes them by id only if the derivation has not moved."""
    assert [audit_intent(lock(), call(), NOW).record_id, audit_outcome(event(LockEventType.KEY_ISSUED)).record_id,
            audit_reconciled(report(missing=("R1",))).record_id] == [
        "58b4aa12d1d06ffa429572edc9a5c829", "3490b6c9ab62c6f67498ddb271b1228a", "c89ed98bed213e9d86762791fd613661"]
