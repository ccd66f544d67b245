"""The end-to-end stream audit's rule: PMS events against stay and lock saga records, and what to re-drive."""

from __future__ import annotations

from datetime import UTC, datetime

from app.domain.lock_event import LockAction, LockCommand
from app.domain.lock_saga import LockSaga, new_saga, step_lock_saga
from app.domain.reservation import ReservationEventType as T
from app.domain.stay import step_stay
from app.domain.stream_audit import Problem, find_differences
from tests.builders import lock, reservation

DOOR_101, LOBBY = lock("door-101", "10101"), lock("lobby", "19999")
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def sagas_after(*commands: LockCommand) -> dict[str, LockSaga]:
    """The lock sagas once they received ``commands`` (intent recorded, vendor not yet answered)."""
    sagas: dict[str, LockSaga] = {}
    for command in commands:
        sagas[command.lock.key], _ = step_lock_saga(sagas.get(command.lock.key, new_saga(command.lock)), command, NOW)
    return sagas


def test_a_stay_applied_everywhere_has_no_difference() -> None:
    confirmed = reservation()
    stay, commands = step_stay(None, confirmed, [DOOR_101, LOBBY], "g_1")
    assert find_differences([confirmed], {stay.stay: stay}, sagas_after(*commands)) == []


def test_a_confirmation_without_a_stay_record_re_drives_the_pms_events() -> None:
    [difference] = find_differences([reservation()], {}, {})
    assert (difference.stay, difference.problem, difference.lock_command) == ("t1/p1/R1", Problem.NO_STAY, None)


def test_a_stay_behind_its_checkout_is_a_difference_the_key_would_stay_live() -> None:
    confirmed, checkout = reservation(), reservation(T.CHECKED_OUT, sequence=2)
    stay, commands = step_stay(None, confirmed, [DOOR_101], "g_1")
    [difference] = find_differences([confirmed, checkout], {stay.stay: stay}, sagas_after(*commands))
    assert difference.problem is Problem.STAY_BEHIND
    assert difference.lock_command is None


def test_an_active_stay_missing_on_one_lock_re_drives_the_issue_on_that_lock_only() -> None:
    confirmed = reservation()
    stay, commands = step_stay(None, confirmed, [DOOR_101, LOBBY], "g_1")
    [difference] = find_differences([confirmed], {stay.stay: stay}, sagas_after(commands[0]))
    assert difference.problem is Problem.NO_SAGA
    assert difference.lock_command is not None
    assert (difference.lock_command.action, difference.lock_command.lock) == (LockAction.ISSUE, LOBBY)
    assert (difference.lock_command.sequence, difference.lock_command.validity) == (stay.sequence, stay.validity)


def test_an_ended_stay_needs_no_saga_record() -> None:
    confirmed, checkout = reservation(), reservation(T.CHECKED_OUT, sequence=2)
    stay, _ = step_stay(None, confirmed, [DOOR_101], "g_1")
    ended, _ = step_stay(stay, checkout, [], None)
    assert find_differences([confirmed, checkout], {ended.stay: ended}, {}) == []


def test_the_re_driven_issue_looks_on_the_lock_first() -> None:
    confirmed = reservation()
    stay, _ = step_stay(None, confirmed, [DOOR_101], "g_1")
    [difference] = find_differences([confirmed], {stay.stay: stay}, {})
    assert difference.lock_command is not None
    _, [call] = step_lock_saga(new_saga(DOOR_101), difference.lock_command, NOW)
    assert call.reconcile  # type: ignore[union-attr]
