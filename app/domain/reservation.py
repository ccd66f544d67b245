"""PMS reservation events, as the property management system publishes them on ``pms.reservations``."""

from __future__ import annotations

import builtins
import re
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator, Field, model_validator

from app.domain.credential import CredentialKind, Frozen, Validity
from app.domain.stay_times import PropertyTimes, stay_window

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _date_or_datetime(value: Any) -> Any:
    """``YYYY-MM-DD`` is a date (the property's check-in or check-out time applies); anything else a date-time."""
    if isinstance(value, str) and _DATE_ONLY.match(value):
        return date.fromisoformat(value)
    return value


StayTime = Annotated[datetime | date, BeforeValidator(_date_or_datetime)]


class ReservationEventType(StrEnum):
    CONFIRMED = "reservation.confirmed"
    MODIFIED = "reservation.modified"
    CHECKED_OUT = "reservation.checked_out"
    CANCELLED = "reservation.cancelled"


ENDING_EVENTS = frozenset({ReservationEventType.CHECKED_OUT, ReservationEventType.CANCELLED})


class ReservationEvent(Frozen):
    """One change to one reservation. ``sequence`` is the PMS revision: it orders events of one reservation."""

    event_id: str = Field(min_length=1, max_length=128)
    type: ReservationEventType
    tenant: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    region: str = Field(min_length=2, max_length=16, pattern=r"^[a-z0-9-]+$")
    property: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    reservation: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    sequence: int = Field(ge=0)
    occurred_at: AwareDatetime
    rooms: tuple[str, ...] = ()
    arrival: StayTime | None = Field(default=None, description=(
        "An instant with an offset, a local wall-clock time (read in the property's time zone) or a date (the "
        "property's check-in time)."))
    departure: StayTime | None = Field(default=None, description=(
        "As arrival; a date gets the property's check-out time."))
    early_check_in: bool = Field(default=False, description="A date-only arrival gets the early check-in time.")
    late_checkout: bool = Field(default=False, description="A date-only departure gets the late checkout time.")
    guest_id: str | None = Field(default=None, max_length=128, description="The PMS's guest id; pseudonymised.")
    credential_kind: CredentialKind = CredentialKind.PASSCODE
    mobile_key_account: str | None = Field(
        default=None, min_length=3, max_length=128,
        description="Where a mobile key is sent: the guest's phone number (+E.164) or the lock vendor's app user "
                    "name. Needed when credential_kind is mobile_key; sealed downstream.")

    @model_validator(mode="after")
    def _stay_fields_present(self) -> ReservationEvent:
        if self.type in ENDING_EVENTS:
            return self
        if not self.rooms:
            raise ValueError(f"{self.type} needs at least one room")
        if self.arrival is None or self.departure is None:
            raise ValueError(f"{self.type} needs arrival and departure")
        if _comparable(self.arrival, self.departure) and self.departure <= self.arrival:
            raise ValueError("departure must be after arrival")
        if self.credential_kind is CredentialKind.MOBILE_KEY and not self.mobile_key_account:
            raise ValueError("a mobile key needs the guest's mobile_key_account")
        return self

    @builtins.property
    def stay_id(self) -> str:
        """The partition key of everything about this reservation: tenant/property/reservation."""
        return stay_key(self.tenant, self.property, self.reservation)

    def validity_in(self, times: PropertyTimes | None) -> Validity:
        """The stay's window in the property's time zone (ValueError with the reason when the times do not fit);
        without a zone, the times must carry offsets."""
        assert self.arrival is not None
        assert self.departure is not None
        if times is None:
            return self.validity
        return stay_window(self.arrival, self.departure, times, early_check_in=self.early_check_in,
                           late_checkout=self.late_checkout)

    @builtins.property
    def validity(self) -> Validity:
        """The window of a stay sent with offsets; local times and dates need :meth:`validity_in`."""
        if not (isinstance(self.arrival, datetime) and self.arrival.tzinfo and isinstance(self.departure, datetime)
                and self.departure.tzinfo):
            raise ValueError("local times and dates need the property's time zone: use validity_in")
        return Validity(starts_at=self.arrival, ends_at=self.departure)


def _comparable(first: datetime | date | None, second: datetime | date | None) -> bool:
    """Both dates, both local times or both instants: the order can be checked before the zone is known."""
    kinds = {(isinstance(v, datetime), isinstance(v, datetime) and v.tzinfo is not None) for v in (first, second)}
    return first is not None and second is not None and len(kinds) == 1


def stay_key(tenant: str, property_id: str, reservation: str) -> str:
    return f"{tenant}/{property_id}/{reservation}"
