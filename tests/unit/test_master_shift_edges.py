"""Edges of the master-key shift: the commands it sends each lock, the per-gateway cap counted over the locks still
busy, which master is live while a shift runs, cancels and reports for other shifts, and the published progress."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.domain.credential import CredentialKind, LockRef, Validity
from app.domain.lock_event import LockAction, LockCommand, ShiftRef
from app.domain.master_shift import (
    LockStepDone,
    PropertyMasters,
    ShiftCancelled,
    ShiftProgress,
    ShiftRequested,
    ShiftStatus,
    progress_of,
    step_shift,
)
from tests.builders import lock

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


def locks(*gateways: str) -> list[LockRef]:
    return [lock(f"door-{i}", str(i)).model_copy(update={"gateway_id": gw}) for i, gw in enumerate(gateways)]


def request(shift_id: str = "s2", **changes: object) -> ShiftRequested:
    return ShiftRequested(shift_id=shift_id, tenant="t1", property="p1", requested_by="test", **changes)


def cancel(shift_id: str = "s2") -> ShiftCancelled:
    return ShiftCancelled(shift_id=shift_id, tenant="t1", property="p1", requested_by="test")


def done(cmd: LockCommand, ok: bool = True, shift_id: str = "s2") -> LockStepDone:
    return LockStepDone(shift_id=shift_id, tenant="t1", property="p1", lock_id=cmd.lock.lock_id, action=cmd.action,
                        ok=ok, cause="" if ok else "gateway offline")


def test_the_install_command_is_a_passcode_valid_for_the_shifts_days_and_reports_to_the_shift() -> None:
    _, (install,) = step_shift(PropertyMasters(), request(valid_days=30), locks("gw-0"), NOW)
    assert install.action is LockAction.ISSUE
    assert (install.kind, install.sequence) == (CredentialKind.PASSCODE, 1)
    assert install.validity == Validity(starts_at=NOW, ends_at=NOW + timedelta(days=30))
    assert install.notify == ShiftRef(tenant="t1", property="p1", shift_id="s2")
    assert install.cause == "master_key.shift:s2"


def test_the_old_masters_revoke_follows_its_install_has_no_window_and_reports_to_the_shift() -> None:
    state, (install,) = step_shift(PropertyMasters(current_shift="s1"), request(), locks("gw-0"), NOW)
    _, (revoke,) = step_shift(state, done(install), locks("gw-0"), NOW)
    assert (revoke.action, revoke.stay, revoke.sequence, revoke.validity) == (LockAction.REVOKE, "master:s1", 2, None)
    assert revoke.notify == ShiftRef(tenant="t1", property="p1", shift_id="s2")


def test_the_per_gateway_cap_holds_at_the_start_on_a_single_gateway() -> None:
    _, commands = step_shift(PropertyMasters(), request(per_gateway=2), locks("gw-0", "gw-0", "gw-0", "gw-0"), NOW)
    assert [c.lock.lock_id for c in commands] == ["door-0", "door-1"]


def test_a_lock_whose_gateway_is_busy_is_skipped_and_the_next_gateways_lock_still_starts() -> None:
    _, commands = step_shift(PropertyMasters(), request(), locks("gw-0", "gw-0", "gw-1"), NOW)
    assert [c.lock.lock_id for c in commands] == ["door-0", "door-2"]


def test_a_freed_slot_is_refilled_counting_the_locks_still_busy_on_the_gateway() -> None:
    property_locks = locks("gw-0", "gw-0", "gw-0", "gw-0", "gw-0")
    state, started = step_shift(PropertyMasters(), request(per_gateway=3), property_locks, NOW)
    assert [c.lock.lock_id for c in started] == ["door-0", "door-1", "door-2"]
    _, refill = step_shift(state, done(started[0]), property_locks, NOW)
    assert [c.lock.lock_id for c in refill] == ["door-3"], "two locks still busy on gw-0: one slot free"


def test_a_lock_that_reports_done_frees_its_slot_for_the_next_pending_lock() -> None:
    property_locks = locks("gw-0", "gw-0")
    state, (first,) = step_shift(PropertyMasters(), request(), property_locks, NOW)
    _, (second,) = step_shift(state, done(first), property_locks, NOW)
    assert second.lock.lock_id == "door-1"


def test_while_a_shift_runs_the_previous_master_stays_the_live_one() -> None:
    property_locks = locks("gw-0", "gw-1")
    state, (first, _) = step_shift(PropertyMasters(current_shift="s1"), request(), property_locks, NOW)
    assert state.current_shift == "s1"
    state, _ = step_shift(state, done(first), property_locks, NOW)
    assert state.current_shift == "s1"
    assert state.shift is not None
    assert state.shift.status is ShiftStatus.RUNNING


def test_a_cancel_stops_the_shift_and_keeps_the_previous_master_live() -> None:
    state, _ = step_shift(PropertyMasters(current_shift="s1"), request(), locks("gw-0", "gw-1"), NOW)
    state, commands = step_shift(state, cancel(), locks("gw-0", "gw-1"), NOW)
    assert commands == []
    assert state.current_shift == "s1"
    assert state.shift is not None
    assert (state.shift.status, state.shift.request.shift_id) == (ShiftStatus.CANCELLED, "s2")


def test_a_cancel_or_report_naming_another_shift_changes_nothing() -> None:
    state, (first, _) = step_shift(PropertyMasters(), request(), locks("gw-0", "gw-1"), NOW)
    for other in (cancel("s9"), done(first, shift_id="s9")):
        assert step_shift(state, other, locks("gw-0", "gw-1"), NOW) == (state, [])


def test_a_cancel_or_report_with_no_shift_at_all_changes_nothing() -> None:
    empty = PropertyMasters(current_shift="s1")
    report = LockStepDone(shift_id="s2", tenant="t1", property="p1", lock_id="door-0", action=LockAction.ISSUE,
                          ok=True)
    for command in (cancel(), report):
        assert step_shift(empty, command, locks("gw-0"), NOW) == (empty, [])


def test_after_a_shift_completes_a_new_one_starts_but_the_finished_one_is_not_run_again() -> None:
    property_locks = locks("gw-0")
    state, (install,) = step_shift(PropertyMasters(), request(), property_locks, NOW)
    state, _ = step_shift(state, done(install), property_locks, NOW)
    assert state.current_shift == "s2"
    assert step_shift(state, request(), property_locks, NOW) == (state, [])
    next_state, (next_install,) = step_shift(state, request("s3"), property_locks, NOW)
    assert next_install.stay == "master:s3"
    assert next_state.shift is not None
    assert next_state.shift.previous_shift == "s2"


def test_causes_are_kept_only_for_the_locks_that_failed() -> None:
    property_locks = locks("gw-0", "gw-1")
    state, (first, second) = step_shift(PropertyMasters(), request(), property_locks, NOW)
    state, _ = step_shift(state, done(first), property_locks, NOW)
    state, _ = step_shift(state, done(second, ok=False), property_locks, NOW)
    assert state.shift is not None
    assert state.shift.causes == {"door-1": "gateway offline"}


def test_the_published_progress_counts_locks_by_phase_and_names_the_stragglers() -> None:
    property_locks = locks("gw-0", "gw-1", "gw-0")
    state, (first, second) = step_shift(PropertyMasters(), request(), property_locks, NOW)
    state, _ = step_shift(state, done(first), property_locks, NOW)
    state, _ = step_shift(state, done(second, ok=False), property_locks, NOW)
    assert state.shift is not None
    assert progress_of(state.shift) == ShiftProgress(
        tenant="t1", property="p1", shift_id="s2", status=ShiftStatus.RUNNING,
        counts={"pending": 0, "installing": 1, "revoking_old": 0, "done": 1, "straggler": 1}, total=3,
        stragglers={"door-1": "gateway offline"})
