"""The stay saga at its edges: every command it sends is stamped with when its PMS event arrived (the latency SLIs),
carries the stay's credential kind, and only a command that puts a key on a lock carries the mobile account."""

from __future__ import annotations

from datetime import timedelta

from app.domain.credential import CredentialKind
from app.domain.lock_event import LockAction
from app.domain.reservation import ReservationEventType as T
from app.domain.stay import step_stay
from tests.builders import ARRIVAL, lock, reservation

DOOR_101, DOOR_102 = lock("door-101", "10101"), lock("door-102", "10102")
RECEIVED = ARRIVAL - timedelta(days=3, seconds=-2)


def test_issues_room_move_revokes_and_checkout_revokes_are_stamped_with_when_the_event_arrived() -> None:
    stay, issued = step_stay(None, reservation(), [DOOR_101], "g_1", received_at=RECEIVED)
    moved, move = step_stay(stay, reservation(T.MODIFIED, sequence=2, rooms=("102",)), [DOOR_102], "g_1",
                            received_at=RECEIVED + timedelta(hours=1))
    _, checkout = step_stay(moved, reservation(T.CHECKED_OUT, sequence=3), [], None,
                            received_at=RECEIVED + timedelta(hours=2))
    assert [(c.action, c.requested_at) for c in (*issued, *move, *checkout)] == [
        (LockAction.ISSUE, RECEIVED),
        (LockAction.REVOKE, RECEIVED + timedelta(hours=1)), (LockAction.ISSUE, RECEIVED + timedelta(hours=1)),
        (LockAction.REVOKE, RECEIVED + timedelta(hours=2))]


def test_a_card_stay_is_keyed_with_cards() -> None:
    confirmed = reservation().model_copy(update={"credential_kind": CredentialKind.CARD})
    stay, [command] = step_stay(None, confirmed, [DOOR_101], "g_1")
    assert (stay.kind, command.kind) == (CredentialKind.CARD, CredentialKind.CARD)


def test_only_an_issue_carries_the_sealed_mobile_account_not_a_revoke() -> None:
    confirmed = reservation().model_copy(update={"credential_kind": CredentialKind.MOBILE_KEY,
                                                 "mobile_key_account": "+4915100000000"})
    stay, [issue] = step_stay(None, confirmed, [DOOR_101], "g_1", mobile_account="sealed")
    _, [revoke] = step_stay(stay, reservation(T.CHECKED_OUT, sequence=2), [], None)
    assert (issue.mobile_account, revoke.mobile_account, revoke.kind) == ("sealed", None, CredentialKind.MOBILE_KEY)
