"""Pure conversions between Salto Space's wire values and the canonical credential models.

Salto keeps the validity of a user (``userActivation``/``userExpiration``) as the *site's wall-clock time* without an
offset, e.g. ``2031-05-04T15:00:00`` for a Berlin hotel. Converting needs the site's time zone, and one hour a year
cannot be written unambiguously: in the hour repeated when summer time ends, Salto's wire format cannot say which
of the two a time means, and reading it back takes the first one (``fold=0``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from app.domain.credential import CredentialKind, IssuedCredential, IssueRequest, Validity

SITE_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
MOBILE_KEY_ASSIGNED = "Assigned"
_PIN = re.compile(r"[0-9]{4,8}")  # Salto keypads take 4 to 8 digits
_USER_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
_PHONE = re.compile(r"\+[0-9]{6,15}")  # E.164: the Salto mobile app is bound to the guest's phone number

# The prefix of a vendor_ref says which key the Salto user carries, because revoking a mobile key also cancels it.
_PREFIX_OF_KIND: dict[CredentialKind, str] = {
    CredentialKind.PASSCODE: "pin",
    CredentialKind.MOBILE_KEY: "mobile",
    CredentialKind.CARD: "card",
}
_KIND_OF_PREFIX = {prefix: kind for kind, prefix in _PREFIX_OF_KIND.items()}


def to_site_time(moment: datetime, site: ZoneInfo) -> str:
    """The site's wall-clock time of an aware instant, as Salto writes it (no offset, to the second)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("Salto times must be computed from time-zone aware datetimes")
    return moment.astimezone(site).strftime(SITE_TIME_FORMAT)


def from_site_time(text: str, site: ZoneInfo) -> datetime:
    """The aware instant of a Salto site time; ValueError if it is not ``YYYY-MM-DDTHH:MM:SS``."""
    return datetime.strptime(text, SITE_TIME_FORMAT).replace(tzinfo=site)


def validity_to_wire(validity: Validity, site: ZoneInfo) -> dict[str, str]:
    """``userActivation``/``userExpiration`` of a validity window."""
    return {
        "userActivation": to_site_time(validity.starts_at, site),
        "userExpiration": to_site_time(validity.ends_at, site),
    }


def validity_from_wire(user: Mapping[str, Any], site: ZoneInfo) -> Validity | None:
    """The validity window of a Salto user, or None when it has none (a permanent user)."""
    start, end = user.get("userActivation"), user.get("userExpiration")
    if not start or not end:
        return None
    starts_at, ends_at = from_site_time(str(start), site), from_site_time(str(end), site)
    return Validity(starts_at=starts_at, ends_at=ends_at) if ends_at > starts_at else None


def encode_ref(kind: CredentialKind, user_id: str) -> str:
    """A vendor_ref such as ``pin:3f2a…``: the Salto user id and the key it carries."""
    if not _USER_ID.fullmatch(user_id):
        raise ValueError(f"not a Salto user id: {user_id!r}")
    return f"{_PREFIX_OF_KIND[kind]}:{user_id}"


def decode_ref(vendor_ref: str) -> tuple[CredentialKind, str]:
    """The kind and Salto user id of a vendor_ref; ValueError if it was not made by :func:`encode_ref`."""
    prefix, sep, user_id = vendor_ref.partition(":")
    if not sep or prefix not in _KIND_OF_PREFIX or not _USER_ID.fullmatch(user_id):
        raise ValueError(f"not a Salto vendor_ref: {vendor_ref!r}")
    return _KIND_OF_PREFIX[prefix], user_id


def check_pin(secret: str | None) -> str:
    """The PIN of a passcode request; Salto keypads accept 4 to 8 digits."""
    if secret is None or not _PIN.fullmatch(secret):
        raise ValueError("a Salto PIN code needs 4 to 8 digits in IssueRequest.secret")
    return secret


def check_phone(secret: str | None) -> str:
    """The guest's phone number (E.164) a Salto mobile key is sent to."""
    if secret is None or not _PHONE.fullmatch(secret):
        raise ValueError("a Salto mobile key needs the guest's phone number (+E.164) in IssueRequest.secret")
    return secret


def user_body(request: IssueRequest, site: ZoneInfo) -> dict[str, Any]:
    """The ``POST /api/v1/users`` body: ``extUserId`` is our label, the name says nothing about the guest."""
    body: dict[str, Any] = {
        "extUserId": request.label,
        "firstName": "Guest",
        "lastName": request.label,
        **validity_to_wire(request.validity, site),
    }
    if request.kind is CredentialKind.MOBILE_KEY:
        body |= {"phoneNumber": check_phone(request.secret), "mobileAppType": "JustIN Mobile"}
    return body


def kind_of(user: Mapping[str, Any]) -> CredentialKind | None:
    """The key a Salto user carries, or None for a user without any key (it opens nothing)."""
    if user.get("hasPinCode"):
        return CredentialKind.PASSCODE
    if user.get("mobileKeyStatus") == MOBILE_KEY_ASSIGNED:
        return CredentialKind.MOBILE_KEY
    if user.get("cardSerial"):
        return CredentialKind.CARD
    return None


def credential_from_user(user: Mapping[str, Any], site: ZoneInfo) -> IssuedCredential | None:
    """A Salto user as a canonical credential, or None when it carries no key."""
    kind = kind_of(user)
    if kind is None:
        return None
    return IssuedCredential(
        vendor_ref=encode_ref(kind, str(user["id"])),
        kind=kind,
        label=str(user.get("extUserId") or ""),
        validity=validity_from_wire(user, site),
    )
