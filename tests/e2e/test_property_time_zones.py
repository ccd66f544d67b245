"""Local times, offsets and dates only, across the DST change of three zones, give the same windows on the lock —
read on the TTLock sandbox's wire values (startDate/endDate in epoch ms)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.devstack.stack import Stack
from tests.pipeline import Pipeline, distinct

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]

SPRING_FORWARD = {"Europe/Berlin": date(2026, 3, 28), "America/New_York": date(2026, 3, 7),
                  "Australia/Lord_Howe": date(2026, 10, 3)}


@pytest.mark.parametrize("zone", sorted(SPRING_FORWARD))
async def test_local_times_offsets_and_dates_give_the_same_lock_window_across_dst(stack: Stack, zone: str) -> None:
    pipeline = await Pipeline(stack, rooms=3, time_zone=zone).start()
    try:
        night = SPRING_FORWARD[zone]
        arrival, departure = datetime.combine(night, time(15)), datetime.combine(night + timedelta(days=2), time(11))
        forms = {1: (arrival.isoformat(), departure.isoformat()),  # local wall-clock times
                 2: (arrival.replace(tzinfo=ZoneInfo(zone)).isoformat(),  # offsets
                     departure.replace(tzinfo=ZoneInfo(zone)).isoformat()),
                 3: (night.isoformat(), (night + timedelta(days=2)).isoformat())}  # dates: check-in 15:00, out 11:00
        events = [pipeline.room_event(event_id=f"c{n}", type="reservation.confirmed", reservation=f"R{n}", sequence=1,
                                      occurred_at=datetime.now(UTC), rooms=[str(100 + n)], arrival=start,
                                      departure=end) for n, (start, end) in forms.items()]
        await pipeline.publish(events)
        await pipeline.read("lock.events", until=lambda rs: len(distinct(rs, "key.issued")) >= 3)
        held = await pipeline.sandbox_credentials()
        windows = {(c["startDate"], c["endDate"]) for creds in held.values() for c in creds}
        expected = (int(arrival.replace(tzinfo=ZoneInfo(zone)).timestamp() * 1000),
                    int(departure.replace(tzinfo=ZoneInfo(zone)).timestamp() * 1000))
        assert windows == {expected}, f"{zone}: {windows}"
        report = await pipeline.settled_history(events)
        assert report.clean, report.summary()
    finally:
        pipeline.stop()
