"""The dev day: its summary explains latency when a burst of PMS events outruns the worker, and its simulated PMS
spreads the day's events and gives guests to every vendor of the demo hotel (Wiegand rooms get cards)."""

from __future__ import annotations

from collections import Counter

from app.devstack.day import WIEGAND_ROOMS, burst_note, demo_directory
from app.devstack.pms_simulator import hotel_rooms, simulate_day


def test_the_dev_summary_explains_latency_when_a_burst_outruns_the_worker() -> None:
    burst = [0.0 + i * 0.01 for i in range(50)]  # 50 events in half a second
    outcomes = [float(i) * 0.1 for i in range(100)]  # 10 outcomes/s
    note = burst_note(burst, outcomes, latencies=[0.5] * 90 + [4.0] * 10)
    assert note is not None
    assert "50 PMS events arrived in the busiest second" in note
    assert "10 lock outcomes/s" in note
    assert burst_note([float(i) for i in range(20)], outcomes, latencies=[0.2] * 20) is None, "no burst: no note"


def test_the_simulated_day_spreads_its_events_and_gives_every_vendor_of_the_demo_hotel_guests() -> None:
    directory = demo_directory()
    for limit in (0, 40):
        events = simulate_day("t1", "eu-west", "p1", hotel_rooms(), seed=7, limit=limit, card_rooms=WIEGAND_ROOMS)
        busiest = max(Counter(int(item.at * 20) for item in events).values())
        assert busiest < len(events) / 3, f"a twentieth of the day holds {busiest} of {len(events)} events"
        vendors = {lock.vendor for item in events for lock in directory.locks_for_stay(item.event.rooms)}
        assert vendors == {"ttlock", "salto", "wiegand"}, f"limit {limit}: {vendors}"
        for item in events:
            card = bool(set(item.event.rooms) & WIEGAND_ROOMS)
            assert item.event.credential_kind == ("card" if card else "passcode") or not item.event.rooms
        first = {}
        for item in events:  # each reservation's events in order: nothing checks out before it is confirmed
            first.setdefault(item.event.reservation, item.event.type)
        assert set(first.values()) == {"reservation.confirmed"}
