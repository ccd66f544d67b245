"""PMS reservation events, as the property management system publishes them on ``pms.reservations``."""

from __future__ import annotations

import builtins
from enum import StrEnum

from pydantic import AwareDatetime, Field, model_validator

from app.domain.credential import CredentialKind, Frozen, Validity


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
    arrival: AwareDatetime | None = None
    departure: AwareDatetime | None = None
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
        if self.departure <= self.arrival:
            raise ValueError("departure must be after arrival")
        if self.credential_kind is CredentialKind.MOBILE_KEY and not self.mobile_key_account:
            raise ValueError("a mobile key needs the guest's mobile_key_account")
        return self

    @builtins.property
    def stay_id(self) -> str:
        """The partition key of everything about this reservation: tenant/property/reservation."""
        return stay_key(self.tenant, self.property, self.reservation)

    @builtins.property
    def validity(self) -> Validity:
        assert self.arrival is not None
        assert self.departure is not None
        return Validity(starts_at=self.arrival, ends_at=self.departure)


def stay_key(tenant: str, property_id: str, reservation: str) -> str:
    return f"{tenant}/{property_id}/{reservation}"
