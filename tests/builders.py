"""Builders of domain values for tests: short names, sensible defaults."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from app.domain.credential import CredentialKind, LockRef, Validity
from app.domain.lock_event import LockAction, LockCommand
from app.domain.reservation import ReservationEvent, ReservationEventType

BERLIN = ZoneInfo("Europe/Berlin")
ARRIVAL = datetime(2026, 12, 1, 15, 0, tzinfo=BERLIN)


def stay_to_come(hour: int = 15, tz: ZoneInfo | timezone = UTC) -> datetime:
    """Tomorrow at ``hour`` in ``tz``: an arrival still to come whatever day the tests run (tests that reach a
    sandbox or the worker's clock must not use a fixed date: a window that has ended lists and settles differently)."""
    tomorrow = datetime.now(tz).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(hour), tzinfo=tz)


def lock(lock_id: str = "door-101", vendor_lock_id: str = "10101", tenant: str = "t1") -> LockRef:
    return LockRef(tenant=tenant, region="eu-west", property="p1", lock_id=lock_id, vendor="ttlock",
                   vendor_lock_id=vendor_lock_id, gateway_id="1")


def validity(nights: int = 2, start: datetime = ARRIVAL) -> Validity:
    return Validity(starts_at=start, ends_at=start + timedelta(days=nights, hours=-4))


def command(action: LockAction, *, stay: str = "t1/p1/R1", sequence: int = 1, nights: int = 2,
            target: LockRef | None = None) -> LockCommand:
    return LockCommand(action=action, lock=target or lock(), stay=stay, sequence=sequence,
                       kind=CredentialKind.PASSCODE,
                       validity=validity(nights) if action is not LockAction.REVOKE else None,
                       guest_ref="g_x", cause=f"test:{action}")


def reservation(kind: ReservationEventType = ReservationEventType.CONFIRMED, *, res: str = "R1", sequence: int = 1,
                rooms: tuple[str, ...] = ("101",), nights: int = 2, tenant: str = "t1",
                event_id: str | None = None) -> ReservationEvent:
    stay_fields = kind in (ReservationEventType.CONFIRMED, ReservationEventType.MODIFIED)
    return ReservationEvent(
        event_id=event_id or f"e-{res}-{sequence}", type=kind, tenant=tenant, region="eu-west", property="p1",
        reservation=res, sequence=sequence, occurred_at=ARRIVAL - timedelta(days=3),
        rooms=rooms if stay_fields else (), arrival=ARRIVAL if stay_fields else None,
        departure=ARRIVAL + timedelta(days=nights, hours=-4) if stay_fields else None, guest_id="guest-1",
    )
