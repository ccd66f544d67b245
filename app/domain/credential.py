"""Credentials and the locks they open, in the hotel's language."""

from __future__ import annotations

import builtins
import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

# A vendor's name (``ttlock``, ``salto``, ``wiegand``, …): the key of its spec in ``adapters/registry.py``. The
# domain knows no vendor by name; which vendors are installed is the registry's business (a directory naming one that
# is not is refused when it is loaded), so a vendor added as a folder needs no change here.
VendorName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]


class CredentialKind(StrEnum):
    PASSCODE = "passcode"
    MOBILE_KEY = "mobile_key"
    CARD = "card"


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OfflineFallback(Frozen):
    """A property's policy for a lock whose gateway is offline: issue an offline passcode (one the lock checks by
    itself) once the gateway has been unreachable for ``after_minutes``, or at once when the guest arrives within
    ``arrival_within_minutes``; until then, and for vendors without offline codes, the saga keeps retrying."""

    after_minutes: int = Field(default=15, ge=0)
    arrival_within_minutes: int = Field(default=60, ge=0)


class LockRef(Frozen):
    """One door lock as the service knows it: canonical ids plus the vendor's own handles, and its property's
    offline fallback (None: off)."""

    tenant: str
    region: str
    property: str
    lock_id: str
    vendor: VendorName
    vendor_lock_id: str
    gateway_id: str | None = None
    offline_fallback: OfflineFallback | None = None

    @builtins.property
    def key(self) -> str:
        """The partition key of all work on this lock: tenant/region/lock."""
        return lock_key(self.tenant, self.region, self.lock_id)


def lock_key(tenant: str, region: str, lock_id: str) -> str:
    return f"{tenant}/{region}/{lock_id}"


class Validity(Frozen):
    """When a credential opens the door; both ends are time-zone aware."""

    starts_at: AwareDatetime
    ends_at: AwareDatetime

    @model_validator(mode="after")
    def _ends_after_start(self) -> Validity:
        if self.ends_at <= self.starts_at:
            raise ValueError("validity must end after it starts")
        return self


class IssueRequest(Frozen):
    """What to put on a lock. ``label`` carries the idempotency key to the vendor so a replay can find it."""

    lock: LockRef
    kind: CredentialKind
    validity: Validity
    label: str
    secret: str | None = None


class IssuedCredential(Frozen):
    """A credential as it exists on the vendor side; ``code`` only for an offline passcode, whose digits the vendor
    chose (they reach the guest sealed, never logged)."""

    vendor_ref: str
    kind: CredentialKind
    label: str
    validity: Validity | None = None
    code: str | None = Field(default=None, repr=False)


class Capabilities(Frozen):
    """What a vendor adapter can honestly do."""

    kinds: frozenset[CredentialKind]
    remote_revoke: bool
    remote_update: bool
    lists_credentials: bool
    offline_passcodes: bool = False  # can give a passcode the lock accepts while its gateway is offline


class LockStatus(Frozen):
    online: bool
    battery_percent: int | None = None
    checked_at: datetime


def credential_label(idempotency_key: str) -> str:
    """A vendor-visible name that finds our credential again and says nothing about the guest."""
    return "lis-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:16]
