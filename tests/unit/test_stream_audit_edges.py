"""The stream audit at its edges: PMS revisions out of order and from zero, several stays with differences of
different kinds, and a re-driven issue that carries what the stay holds and says where it came from."""

from __future__ import annotations

from app.domain.credential import CredentialKind
from app.domain.reservation import ReservationEventType as T
from app.domain.stay import step_stay
from app.domain.stream_audit import Difference, Problem, find_differences
from tests.builders import reservation
from tests.unit.test_stream_audit import DOOR_101, LOBBY, sagas_after


def test_the_latest_pms_revision_counts_whatever_order_the_events_came_in() -> None:
    confirmed, modified = reservation(sequence=2), reservation(T.MODIFIED, sequence=3)
    stay, commands = step_stay(None, confirmed, [DOOR_101], "g_1")
    differences = find_differences([modified, confirmed], {stay.stay: stay}, sagas_after(*commands))
    assert differences == [Difference("t1/p1/R1", Problem.STAY_BEHIND, "PMS revision 3, stay at 2")]


def test_a_stay_at_pms_revision_zero_is_up_to_date() -> None:
    confirmed = reservation(sequence=0)
    stay, commands = step_stay(None, confirmed, [DOOR_101], "g_1")
    assert find_differences([confirmed], {stay.stay: stay}, sagas_after(*commands)) == []


def test_a_missing_stay_record_names_the_pms_revision() -> None:
    assert find_differences([reservation(sequence=4)], {}, {}) == [
        Difference("t1/p1/R1", Problem.NO_STAY, "PMS revision 4, no stay record")]


def test_differences_of_several_stays_are_all_reported() -> None:
    confirmed = reservation(res="R2")
    stay, commands = step_stay(None, confirmed, [DOOR_101, LOBBY], "g_1")
    differences = find_differences([reservation(res="R1"), confirmed], {stay.stay: stay}, sagas_after(commands[0]))
    assert [(d.stay, d.problem, d.detail) for d in differences] == [
        ("t1/p1/R1", Problem.NO_STAY, "PMS revision 1, no stay record"),
        ("t1/p1/R2", Problem.NO_SAGA, f"lock {LOBBY.key}")]


def test_a_re_driven_issue_carries_the_stays_kind_and_guest_and_says_it_was_re_driven() -> None:
    confirmed = reservation().model_copy(update={"credential_kind": CredentialKind.CARD})
    stay, _ = step_stay(None, confirmed, [DOOR_101], "g_7")
    [difference] = find_differences([confirmed], {stay.stay: stay}, {})
    command = difference.lock_command
    assert command is not None
    assert (command.kind, command.guest_ref, command.cause, command.replay) == (
        CredentialKind.CARD, "g_7", "audit-stream:re-driven", True)
