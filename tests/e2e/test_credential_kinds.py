"""Cards and mobile keys end to end, not only PINs: a property with Salto, Generic Wiegand and TTLock locks, guests
asking for mobile keys (addressed to their own account) and cards (numbers allocated on the property), a date change
and checkout — judged by the history checker on the sandboxes' journals."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.reservation import ReservationEvent
from tests.checker import fetch_journals
from tests.pipeline import Pipeline, distinct

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow,
              pytest.mark.pipeline(rooms=30, salto_rooms=10, wiegand_rooms=10)]

SALTO, WIEGAND, TTLOCK = range(1, 11), range(11, 21), range(21, 31)  # rooms 101-110, 111-120, 121-130
START = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)  # cards still valid


def account(n: int) -> str:
    """Salto sends mobile keys to a phone number, TTLock to the guest's TTLock app account."""
    return f"+49151{n:07d}" if n in SALTO else f"guest-{n}@example.com"


def kind_of(n: int) -> str:
    return "card" if n in WIEGAND or n > 25 else "mobile_key"


def confirmation(pipeline: Pipeline, n: int, sequence: int, nights: int) -> ReservationEvent:
    mobile = {"mobile_key_account": account(n)} if kind_of(n) == "mobile_key" else {}
    return pipeline.room_event(event_id=f"c{n}-{sequence}", type="reservation.confirmed" if sequence == 1
                               else "reservation.modified", reservation=f"R{n}", sequence=sequence,
                               occurred_at=datetime.now(UTC), rooms=[str(100 + n)], arrival=START,
                               departure=START + timedelta(days=nights), credential_kind=kind_of(n),
                               guest_id=f"guest-{n}", **mobile)


async def test_mobile_keys_and_cards_are_issued_moved_and_revoked_with_exactly_one_per_stay(
    pipeline: Pipeline,
) -> None:
    rooms = [*SALTO, *WIEGAND, *TTLOCK]
    events = [confirmation(pipeline, n, 1, nights=2) for n in rooms]
    await pipeline.publish(events)
    lock_events = await pipeline.read("lock.events", until=lambda rs: len(distinct(rs, "key.issued")) >= 30)
    assert not [e["detail"] for e in distinct(lock_events, "key.issue_failed").values()]
    assert sorted(e["vendor"] for e in distinct(lock_events, "key.issued").values()) == (
        ["salto"] * 10 + ["ttlock"] * 10 + ["wiegand"] * 10)
    published = json.dumps(lock_events)
    assert not [n for n in rooms if kind_of(n) == "mobile_key" and account(n) in published], (
        "a guest's mobile-key account reached lock.events")
    report = await pipeline.settled_history(events)
    assert report.clean, report.summary()

    written = (await fetch_journals({"wiegand": pipeline.wiegand_url}))["wiegand"]  # what the encoders wrote
    numbers = [int(e["secret"]) for e in written if e["op"] == "issue"]
    assert len(set(numbers)) == len(numbers) == 10
    assert all(1 <= number <= 65_535 for number in numbers)

    longer = [confirmation(pipeline, n, 2, nights=3) for n in TTLOCK]  # cards and mobile keys on TTLock move
    await pipeline.publish(longer)
    events += longer
    await pipeline.read("lock.events", until=lambda rs: len(distinct(rs, "key.updated")) >= 10)
    report = await pipeline.settled_history(events)
    assert report.clean, report.summary()

    checkouts = [pipeline.room_event(event_id=f"o{n}", type="reservation.checked_out", reservation=f"R{n}",
                                     sequence=3, occurred_at=datetime.now(UTC)) for n in rooms]
    await pipeline.publish(checkouts)
    events += checkouts
    lock_events = await pipeline.read("lock.events", until=lambda rs: len(distinct(rs, "key.revoked")) >= 30)
    assert not distinct(lock_events, "key.revoke_failed")
    report = await pipeline.settled_history(events)
    assert report.clean, report.summary()

