"""The intake decision: nothing dropped silently — unknown properties, rooms and reservations each get a visible
outcome, and a partial booking keys the rooms that exist."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.domain.directory import DirectoryLock, PropertyDirectory, RoomPolicy
from app.domain.reservation import ReservationEvent
from app.domain.reservation_intake import intake

ARRIVAL = datetime(2026, 12, 1, 15, tzinfo=UTC)
DIRECTORY = PropertyDirectory(tenant="acme", region="eu-west", property="p1", locks=(
    DirectoryLock(lock_id="door-101", vendor="ttlock", vendor_lock_id="1", room="101"),
    DirectoryLock(lock_id="door-102", vendor="ttlock", vendor_lock_id="2", room="102"),
))


def event(kind: str, rooms: tuple[str, ...] = ("101",), sequence: int = 1) -> ReservationEvent:
    stay = {"rooms": rooms, "arrival": ARRIVAL, "departure": ARRIVAL + timedelta(days=2)}
    return ReservationEvent(event_id=f"{kind}-1", type=f"reservation.{kind}", tenant="acme", region="eu-west",
                            property="p1", reservation="R1", sequence=sequence, occurred_at=ARRIVAL,
                            **(stay if kind in {"confirmed", "modified"} else {}))


def test_a_booking_of_known_rooms_is_applied_whole() -> None:
    decision = intake(event("confirmed", ("101", "102")), DIRECTORY, stay_known=False)
    assert (decision.apply, decision.rooms, decision.dead_letter) == (True, ("101", "102"), None)


def test_a_partial_booking_keys_the_known_room_and_dead_letters_the_unknown_one_naming_both() -> None:
    decision = intake(event("confirmed", ("101", "999")), DIRECTORY, stay_known=False)
    assert (decision.apply, decision.rooms) == (True, ("101",))
    assert decision.dead_letter is not None
    assert "['999']" in decision.dead_letter
    assert "rooms ['101'] of reservation R1 were keyed" in decision.dead_letter


def test_all_or_nothing_dead_letters_the_whole_booking() -> None:
    strict = DIRECTORY.model_copy(update={"room_policy": RoomPolicy.ALL_OR_NOTHING})
    decision = intake(event("confirmed", ("101", "999")), strict, stay_known=False)
    assert not decision.apply
    assert "nothing applied for reservation R1 (room_policy all_or_nothing)" in (decision.dead_letter or "")


def test_a_booking_of_unknown_rooms_only_is_dead_lettered_under_either_policy() -> None:
    assert not intake(event("confirmed", ("998", "999")), DIRECTORY, stay_known=False).apply


def test_an_unknown_property_is_dead_lettered() -> None:
    decision = intake(event("confirmed"), None, stay_known=False)
    assert (decision.apply, decision.dead_letter) == (False, "unknown property acme/p1")


def test_a_checkout_of_a_reservation_never_seen_is_dead_lettered_and_still_recorded_as_ended() -> None:
    decision = intake(event("checked_out", sequence=2), None, stay_known=False)
    assert (decision.apply, decision.unknown_reservation) == (True, True)
    assert (decision.dead_letter or "").startswith("unknown reservation: reservation.checked_out for acme/p1/R1")
    assert intake(event("cancelled", sequence=2), None, stay_known=True).dead_letter is None


def test_a_change_of_a_reservation_never_seen_is_applied_and_counted() -> None:
    decision = intake(event("modified", sequence=2), DIRECTORY, stay_known=False)
    assert (decision.apply, decision.unknown_reservation, decision.dead_letter) == (True, True, None)


def test_a_keyed_stay_moved_to_a_room_without_locks_loses_its_old_room_whatever_the_policy() -> None:
    strict = DIRECTORY.model_copy(update={"room_policy": RoomPolicy.ALL_OR_NOTHING})
    for directory in (DIRECTORY, strict):
        decision = intake(event("modified", ("999",), sequence=2), directory, stay_known=True)
        assert (decision.apply, decision.rooms) == (True, ())  # the stay saga revokes door-101
        assert "now holds rooms []" in (decision.dead_letter or "")
