"""PMS reservation events at their edges: a departure not after the arrival is refused when both are sent alike,
a date and an instant are left for the property's zone to order, and an early check-in reaches the window."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from app.domain.reservation import ReservationEvent
from app.domain.stay_times import PropertyTimes


def confirmed(**stay: Any) -> ReservationEvent:
    return ReservationEvent.model_validate({
        "event_id": "e-1", "type": "reservation.confirmed", "tenant": "t1", "region": "eu-west", "property": "p1",
        "reservation": "R1", "sequence": 1, "occurred_at": datetime(2026, 11, 1, tzinfo=UTC), "rooms": ["101"],
        **stay})


@pytest.mark.parametrize(("arrival", "departure"), [
    (datetime(2026, 12, 3, 11, tzinfo=UTC), datetime(2026, 12, 1, 15, tzinfo=UTC)),
    (date(2026, 12, 3), date(2026, 12, 3)),
    (datetime(2026, 12, 3, 11), datetime(2026, 12, 1, 15)),
], ids=["instants", "dates", "local-times"])
def test_a_departure_not_after_the_arrival_is_refused(arrival: object, departure: object) -> None:
    with pytest.raises(ValidationError, match="departure must be after arrival"):
        confirmed(arrival=arrival, departure=departure)


def test_a_date_and_an_instant_are_left_for_the_propertys_zone_to_order() -> None:
    event = confirmed(arrival=date(2026, 12, 1), departure=datetime(2026, 12, 3, 10, tzinfo=UTC))
    assert event.departure == datetime(2026, 12, 3, 10, tzinfo=UTC)


def test_an_early_check_in_on_a_date_only_arrival_opens_the_door_at_the_early_time() -> None:
    event = confirmed(arrival=date(2026, 12, 1), departure=date(2026, 12, 3), early_check_in=True)
    window = event.validity_in(PropertyTimes(time_zone="Europe/Berlin"))
    assert window.starts_at == datetime(2026, 12, 1, 11, tzinfo=UTC)  # 12:00 in Berlin
