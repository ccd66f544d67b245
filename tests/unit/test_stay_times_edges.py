"""Stay windows at their edges: instants in UTC whatever the host's clock says, an empty window refused, the
departure named in its own error, a wall-clock time handed over on its second pass, and offsets spelled for
operators."""

from __future__ import annotations

import time as host_clock
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from app.domain.stay_times import PropertyTimes, instant, local_instant, stay_window

BERLIN, LONDON, NEW_YORK = (PropertyTimes(time_zone=z) for z in ("Europe/Berlin", "Europe/London",
                                                                  "America/New_York"))


@pytest.fixture
def host_in_tokyo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "JST-9")
    host_clock.tzset()
    yield
    monkeypatch.undo()
    host_clock.tzset()


@pytest.mark.usefixtures("host_in_tokyo")
@pytest.mark.parametrize(("value", "role"), [
    (datetime(2026, 12, 1, 15, tzinfo=timezone(timedelta(hours=1))), "arrival"),  # with an offset
    (datetime(2026, 12, 1, 15), "arrival"),  # an ordinary local time
    (datetime(2026, 10, 25, 2, 30), "arrival"),  # in the autumn fold
    (datetime(2026, 3, 29, 2, 30), "departure"),  # in the spring gap
], ids=["offset", "local", "fold", "gap"])
def test_an_instant_is_in_utc_whatever_the_hosts_time_zone(value: datetime, role: str) -> None:
    assert instant(value, role, BERLIN).isoformat().endswith("+00:00")  # type: ignore[arg-type]


def test_a_date_alone_gets_the_ordinary_check_in_time() -> None:
    assert instant(date(2026, 12, 1), "arrival", BERLIN) == datetime(2026, 12, 1, 14, tzinfo=UTC)


def test_a_wall_clock_time_in_the_fold_is_read_by_the_role_not_by_its_fold_flag() -> None:
    second_pass = datetime(2026, 10, 25, 2, 30, fold=1)
    assert local_instant(second_pass, "arrival", BERLIN.zone) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_a_departure_at_the_arrival_instant_is_refused() -> None:
    at = datetime(2026, 12, 1, 15, tzinfo=UTC)
    with pytest.raises(ValueError, match="is not after arrival"):
        stay_window(at, at, BERLIN)


def test_a_departure_with_the_wrong_offset_is_named_as_the_departure() -> None:
    with pytest.raises(ValueError, match=r"^departure 2026-12-03T11:00:00\+05:00 has offset \+05:00"):
        stay_window(date(2026, 12, 1), datetime(2026, 12, 3, 11, tzinfo=timezone(timedelta(hours=5))), BERLIN)


@pytest.mark.parametrize(("times", "sent", "message"), [
    (LONDON, timezone(timedelta(hours=2)), "has offset +02:00, but Europe/London is at +00:00 then"),
    (NEW_YORK, timezone(timedelta(hours=-4)), "has offset -04:00, but America/New_York is at -05:00 then"),
], ids=["zero", "negative"])
def test_offsets_in_an_error_are_spelled_with_their_sign(times: PropertyTimes, sent: timezone, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("+", r"\+")):
        instant(datetime(2026, 12, 1, 15, tzinfo=sent), "arrival", times)
