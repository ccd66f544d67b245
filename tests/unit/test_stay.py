"""The stay step function: PMS events to lock commands, from tables of cases."""

from __future__ import annotations

import pytest

from app.domain.lock_event import LockAction
from app.domain.reservation import ReservationEventType as T
from app.domain.stay import Stay, StayStatus, step_stay
from tests.builders import lock, reservation

DOOR_101 = lock("door-101", "10101")
DOOR_102 = lock("door-102", "10102")
LOBBY = lock("lobby", "19999")


def confirmed_stay() -> Stay:
    stay, _ = step_stay(None, reservation(), [DOOR_101, LOBBY], "g_1")
    return stay


def actions(commands: list) -> list[tuple[LockAction, str]]:  # type: ignore[type-arg]
    return [(c.action, c.lock.lock_id) for c in commands]


def test_confirmation_issues_on_every_lock_of_the_stay() -> None:
    stay, commands = step_stay(None, reservation(), [DOOR_101, LOBBY], "g_1")
    assert actions(commands) == [(LockAction.ISSUE, "door-101"), (LockAction.ISSUE, "lobby")]
    assert stay.status is StayStatus.ACTIVE
    assert all(c.guest_ref == "g_1" and c.validity == stay.validity for c in commands)


@pytest.mark.parametrize("ending", [T.CHECKED_OUT, T.CANCELLED])
def test_checkout_and_cancel_revoke_every_credential_of_the_stay(ending: T) -> None:
    stay, commands = step_stay(confirmed_stay(), reservation(ending, sequence=2), [], None)
    assert actions(commands) == [(LockAction.REVOKE, "door-101"), (LockAction.REVOKE, "lobby")]
    assert stay.status is StayStatus.ENDED


def test_room_move_revokes_the_old_room_before_issuing_the_new_one() -> None:
    _, commands = step_stay(confirmed_stay(), reservation(T.MODIFIED, sequence=2, rooms=("102",)),
                            [DOOR_102, LOBBY], "g_1")
    assert actions(commands) == [(LockAction.REVOKE, "door-101"), (LockAction.ISSUE, "door-102"),
                                 (LockAction.UPDATE, "lobby")]


def test_date_change_updates_every_lock_it_keeps() -> None:
    _, commands = step_stay(confirmed_stay(), reservation(T.MODIFIED, sequence=2, nights=5), [DOOR_101, LOBBY], "g")
    assert actions(commands) == [(LockAction.UPDATE, "door-101"), (LockAction.UPDATE, "lobby")]
    assert commands[0].validity is not None
    assert commands[0].validity.ends_at > confirmed_stay().validity.ends_at  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("event", "why"),
    [
        (reservation(sequence=1), "duplicate delivery"),
        (reservation(T.MODIFIED, sequence=0, nights=9), "older revision"),
    ],
)
def test_duplicates_and_older_revisions_change_nothing(event: object, why: str) -> None:
    stay = confirmed_stay()
    again, commands = step_stay(stay, event, [DOOR_101, LOBBY], "g_1")  # type: ignore[arg-type]
    assert commands == [], why
    assert again == stay


def test_a_change_after_checkout_never_reopens_the_door() -> None:
    ended, _ = step_stay(confirmed_stay(), reservation(T.CHECKED_OUT, sequence=2), [], None)
    _, commands = step_stay(ended, reservation(T.MODIFIED, sequence=3, nights=4), [DOOR_101], "g_1")
    assert commands == []


def test_cancel_of_an_unknown_reservation_records_the_end_without_commands() -> None:
    stay, commands = step_stay(None, reservation(T.CANCELLED, sequence=3), [], None)
    assert commands == []
    assert stay.status is StayStatus.ENDED
    _, late = step_stay(stay, reservation(sequence=1), [DOOR_101], "g")
    assert late == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"rooms": ()}, "needs at least one room"),
        ({"departure": None}, "needs arrival and departure"),
    ],
)
def test_confirmation_without_stay_fields_is_rejected_with_a_reason(changes: dict, message: str) -> None:  # type: ignore[type-arg]
    data = reservation().model_dump() | changes
    with pytest.raises(ValueError, match=message):
        type(reservation()).model_validate(data)
