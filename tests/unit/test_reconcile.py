"""Anti-entropy's pure verdict: each kind of drift is found, in-flight records are left to the saga, and a repair
re-drives a command the saga turns into a label-first issue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.domain.credential import CredentialKind, IssuedCredential, LockRef, Validity
from app.domain.lock_event import LockAction
from app.domain.lock_saga import CredentialRecord, CredentialStatus, LockSaga, VendorCall, step_lock_saga
from app.domain.reconcile import Drift, ReconcileLock, find_drift, repairs, verdict

LOCK = LockRef(tenant="acme", region="eu-west", property="p1", lock_id="door-1", vendor="ttlock", vendor_lock_id="1")
START = datetime(2026, 12, 1, 15, tzinfo=UTC)
WINDOW = Validity(starts_at=START, ends_at=START + timedelta(days=2))
NOW = START + timedelta(hours=1)


def record(stay: str, status: CredentialStatus, ref: str | None = None, **fields: object) -> CredentialRecord:
    return CredentialRecord.model_validate({
        "stay": stay, "sequence": 1, "idempotency_key": f"{LOCK.key}|{stay}|1", "status": status,
        "kind": CredentialKind.PASSCODE, "validity": WINDOW, "vendor_ref": ref, **fields})


def saga(*records: CredentialRecord) -> LockSaga:
    return LockSaga(lock=LOCK, credentials={r.stay: r for r in records})


def on_lock(owner: CredentialRecord | str, ref: str, validity: Validity = WINDOW) -> IssuedCredential:
    label = owner if isinstance(owner, str) else owner.label
    return IssuedCredential(vendor_ref=ref, kind=CredentialKind.PASSCODE, label=label, validity=validity)


def test_a_lock_holding_exactly_what_its_saga_says_is_clean() -> None:
    issued = record("R1", CredentialStatus.ISSUED, "v1")
    assert find_drift(saga(issued), [on_lock(issued, "v1"), on_lock("front-desk-manual", "v9")], NOW).clean


def test_a_planted_credential_with_our_prefix_and_one_left_by_a_revoke_are_stray() -> None:
    revoked = record("R2", CredentialStatus.REVOKED, "v2")
    drift = find_drift(saga(revoked), [on_lock("lis-0123456789abcdef", "v8"), on_lock(revoked, "v2")], NOW)
    assert sorted(c.vendor_ref for c in drift.stray) == ["v2", "v8"]


def test_an_issued_credential_removed_behind_our_back_is_missing_and_a_moved_window_drifted() -> None:
    gone, moved = record("R1", CredentialStatus.ISSUED, "v1"), record("R3", CredentialStatus.ISSUED, "v3")
    other = Validity(starts_at=START, ends_at=START + timedelta(days=9))
    drift = find_drift(saga(gone, moved), [on_lock(moved, "v3", other)], NOW)
    assert (drift.missing, drift.drifted) == (("R1",), ("R3",))


def test_copies_under_one_label_keep_the_records_own_and_the_rest_are_duplicates() -> None:
    issued = record("R1", CredentialStatus.ISSUED, "v1")
    drift = find_drift(saga(issued), [on_lock(issued, "v0"), on_lock(issued, "v1")], NOW)
    assert [c.vendor_ref for c in drift.duplicates] == ["v0"]


def test_an_issue_settled_failed_whose_credential_is_there_landed() -> None:
    failed = record("R4", CredentialStatus.ISSUE_FAILED)
    assert find_drift(saga(failed), [on_lock(failed, "v4")], NOW).landed == ("R4",)


def test_records_with_an_intent_in_flight_are_left_to_the_saga() -> None:
    issuing, revoking = record("R5", CredentialStatus.ISSUING), record("R6", CredentialStatus.REVOKING, "v6")
    assert find_drift(saga(issuing, revoking), [on_lock(revoking, "v6")], NOW).clean


def test_a_repair_re_drives_the_stays_command_and_the_saga_looks_on_the_lock_first() -> None:
    issued = record("R1", CredentialStatus.ISSUED, "v1")
    current = saga(issued)
    [command] = repairs(current, Drift(missing=("R1",)), "run-1", remote=True)
    assert (command.action, command.replay, command.sequence, command.cause) == (LockAction.ISSUE, True, 1,
                                                                                  "reconcile:run-1")
    after, [call] = step_lock_saga(current, command, START)
    assert isinstance(call, VendorCall)
    assert (call.reconcile, call.record.label) == (True, issued.label)
    assert after.credentials["R1"].status is CredentialStatus.ISSUING


def test_a_plain_duplicate_issue_of_an_issued_record_still_changes_nothing() -> None:
    current = saga(record("R1", CredentialStatus.ISSUED, "v1"))
    [command] = repairs(current, Drift(missing=("R1",)), "run-1", remote=True)
    assert step_lock_saga(current, command.model_copy(update={"replay": False}), START) == (current, [])


def test_a_missing_or_drifted_card_is_only_reported_where_cards_are_written_at_a_desk() -> None:
    current = saga(record("R1", CredentialStatus.ISSUED, "v1"))
    assert repairs(current, Drift(drifted=("R1",), missing=("R1",)), "run-1", remote=False) == []
    [adopt] = repairs(current, Drift(landed=("R1",)), "run-1", remote=False)  # adopting writes nothing
    assert adopt.replay


def test_a_credential_whose_window_has_ended_is_not_missing() -> None:
    issued = record("R1", CredentialStatus.ISSUED, "v1")
    assert find_drift(saga(issued), [], WINDOW.ends_at + timedelta(minutes=1)).clean


def test_the_window_a_failed_update_asked_for_is_not_drift() -> None:
    asked = Validity(starts_at=START, ends_at=START + timedelta(days=4))
    failed_update = record("R1", CredentialStatus.ISSUED, "v1").model_copy(update={"requested_validity": asked})
    assert find_drift(saga(failed_update), [on_lock(failed_update, "v1", asked)], NOW).clean


def test_the_verdict_names_labels_and_stays_not_secrets() -> None:
    drift = Drift(stray=(on_lock("lis-0123456789abcdef", "v8"),), missing=("R1",))
    report = verdict(ReconcileLock(lock=LOCK, run_id="run-1", dry_run=True), drift, 3, repaired=False, now=START)
    assert (report.stray, report.missing, report.listed, report.dry_run) == (("lis-0123456789abcdef",), ("R1",),
                                                                             3, True)
