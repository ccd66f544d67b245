"""Offline-code windows at their edges: whole UTC hours to the second whatever the host's zone, and a code asked
for at the last instant of a stay still gets a whole hour."""

from __future__ import annotations

import time as host_clock
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.credential import Validity
from app.domain.offline_fallback import offline_window

STARTS = datetime(2026, 12, 1, 15, 20, 30, 500_000, tzinfo=UTC)


@pytest.fixture
def host_in_india(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "IST-5:30")  # a half-hour zone: its whole hours are not UTC's
    host_clock.tzset()
    yield
    monkeypatch.undo()
    host_clock.tzset()


@pytest.mark.usefixtures("host_in_india")
def test_an_offline_window_starts_on_a_whole_utc_hour_whatever_the_hosts_zone() -> None:
    window = offline_window(Validity(starts_at=STARTS, ends_at=STARTS + timedelta(days=2)), STARTS - timedelta(1))
    assert window.starts_at.isoformat() == "2026-12-01T15:00:00+00:00"
    assert window.ends_at.isoformat() == "2026-12-03T16:00:00+00:00"


def test_a_code_asked_for_at_the_last_instant_of_a_stay_still_gets_a_whole_hour() -> None:
    ends = datetime(2026, 12, 3, 11, tzinfo=UTC)
    window = offline_window(Validity(starts_at=ends - timedelta(days=2), ends_at=ends), ends)
    assert (window.starts_at, window.ends_at) == (ends, ends + timedelta(hours=1))
