"""Stay windows in the property's time zone: offsets, local wall-clock times and dates give the same instants, and
the DST gap and fold follow the documented rules in Europe/Berlin, America/New_York and Australia/Lord_Howe."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import pytest

from adapters.postgres.directory import property_from_file
from app.domain.reservation import ReservationEvent
from app.domain.stay_times import PropertyTimes, instant, stay_window

BERLIN, NEW_YORK, LORD_HOWE = (PropertyTimes(time_zone=z) for z in ("Europe/Berlin", "America/New_York",
                                                                     "Australia/Lord_Howe"))


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(("times", "local", "expected"), [
    # Spring forward: the skipped local time moves forward by the gap.
    (BERLIN, datetime(2026, 3, 29, 2, 30), utc(2026, 3, 29, 1, 30)),  # 03:30 CEST
    (NEW_YORK, datetime(2026, 3, 8, 2, 30), utc(2026, 3, 8, 7, 30)),  # 03:30 EDT
    (LORD_HOWE, datetime(2026, 10, 4, 2, 15), utc(2026, 10, 3, 15, 45)),  # 02:45 +11:00 (a 30-minute gap)
])
def test_a_local_time_in_the_dst_gap_moves_forward(times: PropertyTimes, local: datetime, expected: datetime) -> None:
    assert instant(local, "arrival", times) == expected
    assert instant(local, "departure", times) == expected


@pytest.mark.parametrize(("times", "local", "earlier", "later"), [
    (BERLIN, datetime(2026, 10, 25, 2, 30), utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)),
    (NEW_YORK, datetime(2026, 11, 1, 1, 30), utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6, 30)),
    (LORD_HOWE, datetime(2026, 4, 5, 1, 45), utc(2026, 4, 4, 14, 45), utc(2026, 4, 4, 15, 15)),  # 30 minutes
])
def test_an_ambiguous_local_time_widens_the_window_arrival_earlier_departure_later(
    times: PropertyTimes, local: datetime, earlier: datetime, later: datetime,
) -> None:
    assert instant(local, "arrival", times) == earlier
    assert instant(local, "departure", times) == later


@pytest.mark.parametrize("times", [BERLIN, NEW_YORK, LORD_HOWE], ids=lambda t: t.time_zone)
def test_offsets_local_times_and_dates_give_the_same_window_across_the_dst_change(times: PropertyTimes) -> None:
    """A stay over each zone's spring-forward night, sent three ways."""
    night = {"Europe/Berlin": date(2026, 3, 28), "America/New_York": date(2026, 3, 7),
             "Australia/Lord_Howe": date(2026, 10, 3)}[times.time_zone]
    arrival_local = datetime.combine(night, time(15))
    departure_local = datetime.combine(night.replace(day=night.day + 2), time(11))
    by_dates = stay_window(night, night.replace(day=night.day + 2), times)
    by_local = stay_window(arrival_local, departure_local, times)
    with_offsets = stay_window(arrival_local.replace(tzinfo=times.zone), departure_local.replace(tzinfo=times.zone),
                               times)
    in_utc = stay_window(by_local.starts_at.astimezone(UTC), by_local.ends_at.astimezone(UTC), times)
    assert by_dates == by_local == with_offsets == in_utc
    offsets = {end.astimezone(times.zone).utcoffset() for end in (by_dates.starts_at, by_dates.ends_at)}
    assert len(offsets) == 2, "the stay does not span the DST change: nothing proven"


def test_a_date_only_stay_takes_check_in_and_check_out_and_the_early_and_late_flags() -> None:
    window = stay_window(date(2026, 12, 1), date(2026, 12, 3), BERLIN)
    assert (window.starts_at, window.ends_at) == (utc(2026, 12, 1, 14), utc(2026, 12, 3, 10))
    flagged = stay_window(date(2026, 12, 1), date(2026, 12, 3), BERLIN, early_check_in=True, late_checkout=True)
    assert (flagged.starts_at, flagged.ends_at) == (utc(2026, 12, 1, 11), utc(2026, 12, 3, 13))


def test_an_offset_the_zone_does_not_have_then_is_refused_and_utc_is_always_an_instant() -> None:
    with pytest.raises(ValueError, match=r"has offset \+02:00, but Europe/Berlin is at \+01:00 then"):
        instant(datetime.fromisoformat("2026-12-01T15:00:00+02:00"), "arrival", BERLIN)
    assert instant(datetime.fromisoformat("2026-12-01T14:00:00Z"), "arrival", BERLIN) == utc(2026, 12, 1, 14)


def test_a_departure_not_after_arrival_in_the_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="is not after arrival"):
        stay_window(date(2026, 12, 1), date(2026, 12, 1), BERLIN)


def test_the_pms_event_reads_dates_local_times_and_offsets() -> None:
    fields: dict[str, Any] = {"event_id": "e", "type": "reservation.confirmed", "tenant": "t", "region": "eu-west",
                              "property": "p", "reservation": "R", "sequence": 1,
                              "occurred_at": "2026-12-01T09:00:00Z", "rooms": ["101"]}
    dates = ReservationEvent.model_validate({**fields, "arrival": "2026-12-01", "departure": "2026-12-03",
                                             "late_checkout": True})
    local = ReservationEvent.model_validate({**fields, "arrival": "2026-12-01T15:00:00",
                                             "departure": "2026-12-03T14:00:00"})
    assert dates.validity_in(BERLIN) == local.validity_in(BERLIN)
    with pytest.raises(ValueError, match="need the property's time zone"):
        local.validity_in(None)


def test_a_directory_file_needs_a_valid_time_zone_for_every_property() -> None:
    tenant = {"tenant": "acme", "region": "eu-west"}
    with pytest.raises(ValueError, match="property 'p1' of tenant 'acme': time_zone is required"):
        property_from_file(tenant, {"property": "p1", "locks": []})
    with pytest.raises(ValueError, match="is not an IANA time zone name"):
        property_from_file(tenant, {"property": "p1", "locks": [], "time_zone": "Mars/Olympus"})
    found = property_from_file(tenant, {"property": "p1", "locks": [], "time_zone": "Europe/Berlin",
                                        "check_in": "14:00"})
    assert found.times == PropertyTimes(time_zone="Europe/Berlin", check_in=time(14))
