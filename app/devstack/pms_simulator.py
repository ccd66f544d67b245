"""A PMS simulator: a realistic day of a hotel as ``pms.reservations`` events.

The day starts with the guests already in house (confirmed earlier, sent over the first few minutes of the day as a
PMS resending its in-house list would, not in one burst), then departures in the morning, arrivals from the
afternoon, a few cancellations, stay extensions and room moves. Deterministic for a given seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.domain.credential import CredentialKind
from app.domain.reservation import ReservationEvent, ReservationEventType

IN_HOUSE_SPREAD = 0.2  # the in-house guests' confirmations come over this first part of the day


@dataclass(frozen=True)
class TimedEvent:
    at: float  # fraction of the simulated day, 0..1
    event: ReservationEvent


def hotel_rooms(floors: int = 6, per_floor: int = 20) -> list[str]:
    return [f"{floor}{number:02d}" for floor in range(1, floors + 1) for number in range(1, per_floor + 1)]


def simulate_day(tenant: str, region: str, property_id: str, rooms: list[str], *, seed: int = 7,
                 day: datetime | None = None, tz: str = "Europe/Berlin", limit: int = 0,
                 card_rooms: frozenset[str] = frozenset()) -> list[TimedEvent]:
    """The events of one day, in publishing order. ``limit`` caps the number of reservations (0: no cap); guests of
    ``card_rooms`` (rooms whose locks take only cards) ask for a card, and nobody is moved into or out of them."""
    rng = random.Random(seed)
    zone = ZoneInfo(tz)
    today = (day or datetime.now(zone)).astimezone(zone).date()

    def at(days: int, hour: int) -> datetime:
        return datetime.combine(today + timedelta(days=days), time(hour), tzinfo=zone)

    events: list[TimedEvent] = []
    shuffled = rooms[:]
    rng.shuffle(shuffled)
    shuffled.sort(key=lambda room: room not in card_rooms)  # card rooms in house first: any limit reaches them
    in_house = shuffled[: int(len(rooms) * 0.7)]
    free = shuffled[len(in_house):]
    departing = set(in_house[: len(in_house) // 2])
    counter = 0
    kinds: dict[str, bool] = {}  # reservation -> whether its guest has a card

    def new_event(kind: ReservationEventType, res: str, seq: int, room: str | None, arrive: datetime | None,
                  depart: datetime | None, when: float) -> None:
        nonlocal counter
        counter += 1
        event = ReservationEvent(
            event_id=f"pms-{seed}-{counter}", type=kind, tenant=tenant, region=region, property=property_id,
            reservation=res, sequence=seq, occurred_at=at(0, 6) + timedelta(hours=18 * when),
            rooms=(room,) if room and kind not in (ReservationEventType.CHECKED_OUT, ReservationEventType.CANCELLED)
            else (), arrival=arrive, departure=depart, guest_id=f"guest-{res}",
            credential_kind=CredentialKind.CARD if kinds.get(res) else CredentialKind.PASSCODE,
        )
        events.append(TimedEvent(when, event))

    reservations = 0
    for index, room in enumerate(in_house):
        if limit and reservations >= limit:
            break
        reservations += 1
        res = f"R{seed}-{index:04d}"
        kinds[res] = room in card_rooms
        leaves = 0 if room in departing else rng.randint(1, 4)
        sent = rng.uniform(0.0, IN_HOUSE_SPREAD)
        new_event(ReservationEventType.CONFIRMED, res, 1, room, at(-rng.randint(1, 3), 15), at(leaves, 11), sent)
        if room in departing:  # each later event of a reservation comes after its confirmation
            new_event(ReservationEventType.CHECKED_OUT, res, 2, None, None, None, rng.uniform(sent + 0.02, 0.45))
        elif rng.random() < 0.1:
            extended = at(leaves + 1, 11)
            new_event(ReservationEventType.MODIFIED, res, 2, room, at(-1, 15), extended, rng.uniform(sent + 0.02, 0.9))
    arrivals = free + sorted(departing)
    for index, room in enumerate(arrivals):
        if limit and reservations >= limit:
            break
        reservations += 1
        res = f"A{seed}-{index:04d}"
        kinds[res] = room in card_rooms
        booked = rng.uniform(0.1, 0.4)
        new_event(ReservationEventType.CONFIRMED, res, 1, room, at(0, 15), at(rng.randint(1, 5), 11), booked)
        roll = rng.random()
        if roll < 0.08:
            new_event(ReservationEventType.CANCELLED, res, 2, None, None, None, rng.uniform(booked, 0.6))
        elif roll < 0.12 and free:
            moved_to = free[(index + 7) % len(free)]
            if moved_to != room and (moved_to in card_rooms) == (room in card_rooms):
                new_event(ReservationEventType.MODIFIED, res, 2, moved_to, at(0, 15), at(2, 11),
                          rng.uniform(0.5, 0.95))
    events.sort(key=lambda item: item.at)
    return events
