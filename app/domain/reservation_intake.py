"""What of a PMS event can be applied, and what must be made visible, before the stay saga runs: a pure decision.

Nothing is dropped silently. An event for a property the directory does not know is dead-lettered. A booking that
names rooms without locks keys the known rooms and dead-letters the rest with the reservation (``partial``, the
default: the guest still gets into the rooms that exist), or is dead-lettered whole (``all_or_nothing``), as the
property's ``room_policy`` says; a change of a stay already keyed always applies to its rooms that exist, so a room
the guest no longer has is revoked whatever the policy. Times are read in the property's time zone
(``app/domain/stay_times.py``); times that do not fit it (an offset the zone does not have then, a departure not
after arrival) are dead-lettered. A checkout or cancellation of a reservation the service never saw is dead-lettered
too — a dead letter rather than a notice on ``lock.events``, because it is most likely a PMS mapping error (a wrong
property or reservation id) that an operator has to look at, ``lis dlq list`` shows it with the others, and the PMS
can send it again once the mapping is fixed; the stay still records the end, so a late confirmation cannot open a
door. A change of an unknown reservation is applied (a booking made before the service went live) and only counted.
"""

from __future__ import annotations

from app.domain.credential import Frozen, Validity
from app.domain.directory import PropertyDirectory, RoomPolicy
from app.domain.reservation import ENDING_EVENTS, ReservationEvent, ReservationEventType


class Intake(Frozen):
    apply: bool  # run the stay saga for the event (with ``rooms``)
    rooms: tuple[str, ...] = ()  # the rooms to key
    validity: Validity | None = None  # the stay's window in the property's time zone
    dead_letter: str | None = None  # the reason, when the event (or a part of it) goes to lock.dlq
    unknown_reservation: bool = False


def intake(event: ReservationEvent, directory: PropertyDirectory | None, *, stay_known: bool) -> Intake:
    """The decision for ``event``; ``directory`` is None when the property is unknown (not looked up for an ending
    event), ``stay_known`` whether the service has a stay for the reservation."""
    if event.type in ENDING_EVENTS:
        if stay_known:
            return Intake(apply=True)
        return Intake(apply=True, unknown_reservation=True, dead_letter=(
            f"unknown reservation: {event.type} for {event.stay_id}, which this service never saw "
            f"(wrong property or reservation id?); recorded as ended"))
    if directory is None:
        return Intake(apply=False, dead_letter=f"unknown property {event.tenant}/{event.property}")
    try:
        validity = event.validity_in(directory.times)
    except ValueError as err:
        return Intake(apply=False, dead_letter=f"stay times do not fit: {err}")
    unknown = directory.unknown_rooms(event.rooms)
    known = tuple(room for room in event.rooms if room not in unknown)
    modified_unknown = event.type is ReservationEventType.MODIFIED and not stay_known
    if not unknown:
        return Intake(apply=True, rooms=known, validity=validity, unknown_reservation=modified_unknown)
    resend = "send the reservation again with a higher sequence once the rooms have locks"
    if stay_known:
        # A change of a stay the service keys: its rooms that exist follow the change whatever the policy, so a
        # room the guest no longer has is revoked (with no known room left, every key of the stay is).
        return Intake(apply=True, rooms=known, validity=validity, dead_letter=(
            f"rooms without locks: {unknown}; the stay of reservation {event.reservation} now holds rooms "
            f"{list(known)}; {resend}"))
    if not known or directory.room_policy is RoomPolicy.ALL_OR_NOTHING:
        return Intake(apply=False, dead_letter=(
            f"rooms without locks: {unknown}; nothing applied for reservation {event.reservation} "
            f"(room_policy {directory.room_policy}); {resend}"))
    return Intake(apply=True, rooms=known, validity=validity, unknown_reservation=modified_unknown, dead_letter=(
        f"rooms without locks: {unknown}; rooms {list(known)} of reservation {event.reservation} were keyed "
        f"(room_policy {directory.room_policy}); {resend}"))
