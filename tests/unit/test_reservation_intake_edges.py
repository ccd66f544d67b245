"""The intake decision at its edges: the window is read in the property's zone on every path that applies, times
that do not fit are dead-lettered with their reason, and every rooms-without-locks letter says how to resend."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from app.domain.credential import Validity
from app.domain.directory import DirectoryLock, PropertyDirectory
from app.domain.reservation import ReservationEvent
from app.domain.reservation_intake import intake
from app.domain.stay_times import PropertyTimes

DIRECTORY = PropertyDirectory(tenant="acme", region="eu-west", property="p1", times=PropertyTimes(
    time_zone="Europe/Berlin"), locks=(
    DirectoryLock(lock_id="door-101", vendor="ttlock", vendor_lock_id="1", room="101"),
    DirectoryLock(lock_id="door-102", vendor="ttlock", vendor_lock_id="2", room="102"),
))
UTC = UTC
# Dates only: 15:00 and 11:00 in Berlin (UTC+1 in December).
WINDOW = Validity(starts_at=datetime(2026, 12, 1, 14, tzinfo=UTC), ends_at=datetime(2026, 12, 3, 10, tzinfo=UTC))
RESEND = "send the reservation again with a higher sequence once the rooms have locks"


def event(kind: str, rooms: tuple[str, ...] = ("101",), **times: object) -> ReservationEvent:
    return ReservationEvent.model_validate({
        "event_id": f"{kind}-1", "type": f"reservation.{kind}", "tenant": "acme", "region": "eu-west",
        "property": "p1", "reservation": "R1", "sequence": 1, "occurred_at": datetime(2026, 11, 1, tzinfo=UTC),
        **({"rooms": rooms, "arrival": date(2026, 12, 1), "departure": date(2026, 12, 3)} | times
           if kind in {"confirmed", "modified"} else {})})


def test_a_checkout_of_a_known_stay_is_applied_without_a_dead_letter() -> None:
    decision = intake(event("checked_out"), None, stay_known=True)
    assert (decision.apply, decision.unknown_reservation, decision.dead_letter) == (True, False, None)


def test_a_new_booking_is_not_an_unknown_reservation() -> None:
    decision = intake(event("confirmed"), DIRECTORY, stay_known=False)
    assert (decision.apply, decision.unknown_reservation) == (True, False)


@pytest.mark.parametrize(("rooms", "stay_known", "keyed"), [
    (("101", "102"), False, ("101", "102")),  # all rooms known
    (("101", "999"), True, ("101",)),  # a keyed stay moved partly to a room without locks
    (("101", "999"), False, ("101",)),  # a partial booking
], ids=["whole", "keyed-stay-changed", "partial"])
def test_dates_only_get_the_propertys_check_in_and_check_out_in_its_zone(rooms: tuple[str, ...], stay_known: bool,
                                                                         keyed: tuple[str, ...]) -> None:
    decision = intake(event("confirmed", rooms), DIRECTORY, stay_known=stay_known)
    assert (decision.apply, decision.rooms, decision.validity) == (True, keyed, WINDOW)


def test_a_keyed_stay_moved_partly_to_a_room_without_locks_keeps_its_known_room() -> None:
    decision = intake(event("modified", ("999", "102")), DIRECTORY, stay_known=True)
    assert (decision.rooms, decision.validity) == (("102",), WINDOW)


def test_a_partial_change_of_a_reservation_never_seen_is_counted() -> None:
    decision = intake(event("modified", ("101", "999")), DIRECTORY, stay_known=False)
    assert (decision.apply, decision.rooms, decision.unknown_reservation) == (True, ("101",), True)


def test_an_offset_the_propertys_zone_does_not_have_is_dead_lettered_with_the_reason() -> None:
    decision = intake(event("confirmed", arrival=datetime(2026, 12, 1, 15, tzinfo=timezone(timedelta(hours=5)))),
                      DIRECTORY, stay_known=False)
    assert (decision.apply, decision.dead_letter) == (False, (
        "stay times do not fit: arrival 2026-12-01T15:00:00+05:00 has offset +05:00, but Europe/Berlin is at "
        "+01:00 then"))


@pytest.mark.parametrize(("rooms", "stay_known"), [
    (("101", "999"), True), (("101", "999"), False), (("999",), False)])
def test_every_rooms_without_locks_letter_says_how_to_resend(rooms: tuple[str, ...], stay_known: bool) -> None:
    letter = intake(event("confirmed", rooms), DIRECTORY, stay_known=stay_known).dead_letter
    assert letter is not None
    assert letter.endswith(f"; {RESEND}")
