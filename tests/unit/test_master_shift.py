"""The master-key shift saga: fan-out with bounded concurrency, old master only after new, stragglers, cancel."""

from __future__ import annotations

from datetime import UTC, datetime

from app.domain.lock_event import LockAction, LockCommand
from app.domain.master_shift import (
    LockPhase,
    LockStepDone,
    PropertyMasters,
    ShiftCancelled,
    ShiftRequested,
    ShiftStatus,
    master_stay,
    step_shift,
)
from tests.builders import lock

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
LOCKS = [lock(f"door-{i}", str(i)).model_copy(update={"gateway_id": f"gw-{i % 2}"}) for i in range(6)]


def request(shift_id: str = "s2", **changes: object) -> ShiftRequested:
    return ShiftRequested(shift_id=shift_id, tenant="t1", property="p1", requested_by="test", **changes)


def done(cmd: LockCommand, ok: bool = True, shift_id: str = "s2") -> LockStepDone:
    return LockStepDone(shift_id=shift_id, tenant="t1", property="p1", lock_id=cmd.lock.lock_id, action=cmd.action,
                        ok=ok, cause="" if ok else "gateway offline")


def test_shift_starts_one_lock_per_gateway_and_respects_the_in_flight_cap() -> None:
    _, commands = step_shift(PropertyMasters(), request(), LOCKS, NOW)
    assert [c.lock.gateway_id for c in commands] == ["gw-0", "gw-1"]
    assert all(c.action is LockAction.ISSUE and c.stay == master_stay("s2") for c in commands)
    _, capped = step_shift(PropertyMasters(), request(per_gateway=3, max_in_flight=4), LOCKS, NOW)
    assert len(capped) == 4


def test_old_master_is_revoked_on_a_lock_only_after_the_new_one_is_live_there() -> None:
    state = PropertyMasters(current_shift="s1")
    state, (first, _) = step_shift(state, request(), LOCKS, NOW)
    state, commands = step_shift(state, done(first), LOCKS, NOW)
    revoke = commands[0]
    assert (revoke.action, revoke.lock.lock_id, revoke.stay) == (LockAction.REVOKE, first.lock.lock_id, "master:s1")
    assert all(c.action is LockAction.ISSUE for c in commands[1:])
    assert state.shift is not None
    assert state.shift.phases[first.lock.lock_id] is LockPhase.REVOKING_OLD


def test_a_failed_install_makes_a_straggler_and_never_revokes_the_old_master_there() -> None:
    state = PropertyMasters(current_shift="s1")
    state, (first, _) = step_shift(state, request(), LOCKS, NOW)
    state, commands = step_shift(state, done(first, ok=False), LOCKS, NOW)
    assert not any(c.action is LockAction.REVOKE for c in commands)
    assert state.shift is not None
    assert state.shift.stragglers == {first.lock.lock_id: "gateway offline"}


def test_shift_completes_when_every_lock_is_done_or_a_straggler_and_becomes_the_current_master() -> None:
    state, pending = step_shift(PropertyMasters(), request(per_gateway=10, max_in_flight=10), LOCKS, NOW)
    for i, cmd in enumerate(pending):
        state, _ = step_shift(state, done(cmd, ok=i != 0), LOCKS, NOW)
    assert state.shift is not None
    assert state.shift.status is ShiftStatus.COMPLETED
    assert state.current_shift == "s2"
    assert state.shift.counts()["straggler"] == 1


def test_cancel_dispatches_nothing_new_and_a_repeated_report_changes_nothing() -> None:
    state, (first, _) = step_shift(PropertyMasters(), request(), LOCKS, NOW)
    state, _ = step_shift(state, ShiftCancelled(shift_id="s2", tenant="t1", property="p1", requested_by="t"), LOCKS,
                          NOW)
    state, commands = step_shift(state, done(first), LOCKS, NOW)
    assert commands == []
    again, commands = step_shift(state, done(first), LOCKS, NOW)
    assert commands == []
    assert again == state


def test_a_second_shift_while_one_runs_is_refused_and_a_duplicate_request_is_ignored() -> None:
    state, _ = step_shift(PropertyMasters(), request(), LOCKS, NOW)
    for other in (request(), request("s3")):
        unchanged, commands = step_shift(state, other, LOCKS, NOW)
        assert (unchanged, commands) == (state, [])
