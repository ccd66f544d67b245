"""Anti-entropy at its edges: the re-driven command carries the whole record, every copy under every label is
judged, a window ending now is not put back, and the verdict and the metric names carry every kind of drift."""

from __future__ import annotations

from datetime import timedelta

from app.domain.credential import CredentialKind, Validity
from app.domain.lock_saga import CredentialStatus
from app.domain.reconcile import Drift, ReconcileLock, find_drift, repairs, verdict
from tests.unit.test_reconcile import LOCK, NOW, START, WINDOW, on_lock, record, saga


def test_a_repair_re_issues_the_records_own_kind_window_guest_and_mobile_account() -> None:
    mobile = record("R1", CredentialStatus.ISSUED, "v1", kind=CredentialKind.MOBILE_KEY, guest_ref="g_7",
                    mobile_account="sealed-acct")
    [command] = repairs(saga(mobile), Drift(missing=("R1",)), "run-1", remote=True)
    assert (command.kind, command.validity, command.guest_ref, command.mobile_account, command.notify) == (
        CredentialKind.MOBILE_KEY, WINDOW, "g_7", "sealed-acct", None)


def test_an_in_flight_label_does_not_stop_the_other_labels_being_judged() -> None:
    issuing, moved = record("R1", CredentialStatus.ISSUING), record("R2", CredentialStatus.ISSUED, "v2")
    other = Validity(starts_at=START, ends_at=START + timedelta(days=9))
    drift = find_drift(saga(issuing, moved), [on_lock(issuing, "v1"), on_lock(moved, "v2", other)], NOW)
    assert drift.drifted == ("R2",)


def test_copies_of_a_record_without_a_reference_keep_the_first_and_the_rest_are_duplicates() -> None:
    failed = record("R4", CredentialStatus.ISSUE_FAILED)
    drift = find_drift(saga(failed), [on_lock(failed, "v4"), on_lock(failed, "v5")], NOW)
    assert ([c.vendor_ref for c in drift.duplicates], drift.landed) == (["v5"], ("R4",))


def test_duplicates_under_several_labels_are_all_reported() -> None:
    one, two = record("R1", CredentialStatus.ISSUED, "v1"), record("R2", CredentialStatus.ISSUED, "v2")
    listed = [on_lock(one, "v1"), on_lock(one, "v1b"), on_lock(two, "v2"), on_lock(two, "v2b")]
    assert sorted(c.vendor_ref for c in find_drift(saga(one, two), listed, NOW).duplicates) == ["v1b", "v2b"]


def test_a_credential_whose_window_ends_right_now_is_not_missing() -> None:
    gone = record("R1", CredentialStatus.ISSUED, "v1")
    assert find_drift(saga(gone), [], WINDOW.ends_at).clean


def test_the_verdict_names_every_kind_of_drift_found_and_the_repair_and_its_detail() -> None:
    drift = Drift(stray=(on_lock("lis-a", "v8"),), duplicates=(on_lock("lis-b", "v9"),), missing=("R1",),
                  drifted=("R2",), landed=("R3",))
    event = verdict(ReconcileLock(lock=LOCK, run_id="run-1"), drift, 4, repaired=True, now=NOW,
                    detail="partial listing")
    assert (event.stray, event.duplicates, event.missing, event.drifted, event.landed, event.repaired,
            event.detail) == (("lis-a",), ("lis-b",), ("R1",), ("R2",), ("R3",), True, "partial listing")


def test_the_drift_counts_are_named_for_the_reconcile_metric() -> None:
    drift = Drift(stray=(on_lock("lis-a", "v8"),), duplicates=(on_lock("lis-b", "v9"), on_lock("lis-b", "v7")),
                  missing=("R1", "R2", "R3"), drifted=("R4",) * 4, landed=("R5",) * 5)
    assert drift.counts() == {"stray": 1, "duplicates": 2, "missing": 3, "drifted": 4, "landed": 5}
