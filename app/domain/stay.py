"""A reservation's stay as a pure step function: PMS event + the locks of its rooms -> commands to those locks.

The stay remembers which locks it holds credentials on, so checkout and cancellation revoke every one of them even
when the PMS does not repeat the rooms, and a room move revokes the old room's locks before issuing on the new one.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from app.domain.credential import CredentialKind, Frozen, LockRef, Validity
from app.domain.lock_event import LockAction, LockCommand
from app.domain.reservation import ENDING_EVENTS, ReservationEvent


class StayStatus(StrEnum):
    ACTIVE = "active"
    ENDED = "ended"


class Stay(Frozen):
    stay: str
    sequence: int
    status: StayStatus
    locks: tuple[LockRef, ...] = ()
    validity: Validity | None = None
    kind: CredentialKind = CredentialKind.PASSCODE
    guest_ref: str | None = None
    mobile_account: str | None = None  # sealed (see app.credential_material)


def step_stay(
    stay: Stay | None, event: ReservationEvent, locks: list[LockRef], guest_ref: str | None,
    mobile_account: str | None = None, validity: Validity | None = None, received_at: datetime | None = None,
) -> tuple[Stay, list[LockCommand]]:
    """Apply one PMS event. ``locks`` are the locks serving the event's rooms (empty for checkout/cancel);
    ``guest_ref`` is the guest's pseudonym, ``mobile_account`` the sealed mobile-key account, if any, and
    ``validity`` the stay's window in the property's time zone (default: the event's times, which then need
    offsets); ``received_at`` is when the event reached the service, stamped on the commands for the latency SLIs."""
    if stay is not None and event.sequence <= stay.sequence:
        return stay, []  # duplicate or out-of-order delivery: the PMS revision already applied wins
    if event.type in ENDING_EVENTS:
        ended = Stay(stay=event.stay_id, sequence=event.sequence, status=StayStatus.ENDED)
        if stay is None or stay.status is StayStatus.ENDED:
            return ended, []
        revokes = [_command(LockAction.REVOKE, lock, event, stay.kind, None, stay, received_at)
                   for lock in stay.locks]
        return ended, revokes
    if stay is not None and stay.status is StayStatus.ENDED:
        return stay, []  # a change after checkout or cancellation must not re-open the door
    window = validity or event.validity
    new = Stay(stay=event.stay_id, sequence=event.sequence, status=StayStatus.ACTIVE, locks=tuple(locks),
               validity=window, kind=event.credential_kind, guest_ref=guest_ref,
               mobile_account=mobile_account)
    previous = {lock.lock_id: lock for lock in stay.locks} if stay else {}
    wanted = {lock.lock_id for lock in locks}
    # Revokes first: a room move takes the old room away before the new room opens.
    commands = [_command(LockAction.REVOKE, lock, event, new.kind, None, new, received_at)
                for lock_id, lock in previous.items() if lock_id not in wanted]
    for lock in locks:
        action = LockAction.UPDATE if lock.lock_id in previous else LockAction.ISSUE
        commands.append(_command(action, lock, event, new.kind, window, new, received_at))
    return new, commands


def _command(
    action: LockAction, lock: LockRef, event: ReservationEvent, kind: CredentialKind, validity: Validity | None,
    stay: Stay, received_at: datetime | None,
) -> LockCommand:
    return LockCommand(action=action, lock=lock, stay=event.stay_id, sequence=event.sequence, kind=kind,
                       validity=validity, guest_ref=stay.guest_ref,
                       mobile_account=stay.mobile_account if validity is not None else None,
                       cause=f"{event.type}:{event.event_id}", requested_at=received_at)
