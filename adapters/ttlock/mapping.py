"""Pure conversions between TTLock's wire values and the canonical credential models.

No I/O here: times, vendor references and list records are translated by plain functions so they can be tested from
tables of cases.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from app.domain.credential import CredentialKind, IssuedCredential, Validity

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_PIN = re.compile(r"[0-9]{4,9}")
_DIGITS = re.compile(r"[0-9]+")  # ASCII only: str.isdecimal() would also take other scripts' digits

# The prefix of a vendor_ref names the TTLock object family, because each family has its own endpoints and id space.
_PREFIX_OF_KIND: dict[CredentialKind, str] = {
    CredentialKind.PASSCODE: "passcode",
    CredentialKind.MOBILE_KEY: "ekey",
    CredentialKind.CARD: "card",
}
_KIND_OF_PREFIX: dict[str, CredentialKind] = {prefix: kind for kind, prefix in _PREFIX_OF_KIND.items()}

# TTLock sends 0 as startDate/endDate of permanent credentials: they have no validity window.
_NO_DATE = 0

KEYPAD_RECORD_TYPE = 4  # a lock record of a passcode typed on the keypad (opened or not)


def to_ms(moment: datetime) -> int:
    """Milliseconds since the Unix epoch of an aware datetime (TTLock's ``date``/``startDate``/``endDate``)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("TTLock times must be computed from time-zone aware datetimes")
    # Integer arithmetic on timedelta, not float timestamps, so no millisecond is lost to rounding.
    return (moment - _EPOCH) // _MS


def from_ms(ms: int) -> datetime:
    """The UTC-aware datetime of a TTLock millisecond timestamp."""
    return _EPOCH + timedelta(milliseconds=ms)


def validity_to_wire(validity: Validity) -> dict[str, int]:
    """``startDate``/``endDate`` form fields of a validity window."""
    return {"startDate": to_ms(validity.starts_at), "endDate": to_ms(validity.ends_at)}


def validity_from_wire(start_ms: Any, end_ms: Any) -> Validity | None:
    """The validity window of a TTLock record, or None for a permanent credential (dates 0 or missing)."""
    start, end = int(start_ms or _NO_DATE), int(end_ms or _NO_DATE)
    if start == _NO_DATE or end == _NO_DATE or end <= start:
        return None
    return Validity(starts_at=from_ms(start), ends_at=from_ms(end))


def encode_ref(kind: CredentialKind, vendor_id: int) -> str:
    """A vendor_ref such as ``passcode:123`` that routes later revokes and updates to the right endpoint."""
    return f"{_PREFIX_OF_KIND[kind]}:{int(vendor_id)}"


def decode_ref(vendor_ref: str) -> tuple[CredentialKind, int]:
    """The kind and TTLock id of a vendor_ref; ValueError if it was not made by :func:`encode_ref`."""
    prefix, sep, raw_id = vendor_ref.partition(":")
    if not sep or prefix not in _KIND_OF_PREFIX or not _DIGITS.fullmatch(raw_id):
        raise ValueError(f"not a TTLock vendor_ref: {vendor_ref!r}")
    return _KIND_OF_PREFIX[prefix], int(raw_id)


def check_pin(secret: str | None) -> str:
    """The PIN of a passcode request; TTLock accepts 4 to 9 digits only."""
    if secret is None or not _PIN.fullmatch(secret):
        raise ValueError("a TTLock passcode needs a PIN of 4 to 9 digits in IssueRequest.secret")
    return secret


def lock_id_of(vendor_lock_id: str) -> int:
    """TTLock's integer lockId from the LockRef's vendor_lock_id."""
    if not _DIGITS.fullmatch(vendor_lock_id):
        raise ValueError(f"TTLock lock ids are integers, got {vendor_lock_id!r}")
    return int(vendor_lock_id)


def passcode_from_record(record: Mapping[str, Any]) -> IssuedCredential:
    """A ``/v3/lock/listKeyboardPwd`` list entry as a canonical credential; an algorithmic (offline) code, which
    TTLock lists with ``isCustom`` 0, keeps its digits: the vendor chose them, and the guest needs them."""
    algorithmic = str(record.get("isCustom", 1)) == "0"
    return IssuedCredential(
        vendor_ref=encode_ref(CredentialKind.PASSCODE, record["keyboardPwdId"]),
        kind=CredentialKind.PASSCODE,
        label=str(record.get("keyboardPwdName") or ""),
        validity=validity_from_wire(record.get("startDate"), record.get("endDate")),
        code=str(record.get("keyboardPwd")) if algorithmic and record.get("keyboardPwd") else None,
    )


def ekey_from_record(record: Mapping[str, Any]) -> IssuedCredential:
    """A ``/v3/lock/listKey`` list entry as a canonical credential."""
    return IssuedCredential(
        vendor_ref=encode_ref(CredentialKind.MOBILE_KEY, record["keyId"]),
        kind=CredentialKind.MOBILE_KEY,
        label=str(record.get("keyName") or ""),
        validity=validity_from_wire(record.get("startDate"), record.get("endDate")),
    )


def card_from_record(record: Mapping[str, Any]) -> IssuedCredential:
    """A ``/v3/identityCard/list`` list entry as a canonical credential."""
    return IssuedCredential(
        vendor_ref=encode_ref(CredentialKind.CARD, record["cardId"]),
        kind=CredentialKind.CARD,
        label=str(record.get("cardName") or ""),
        validity=validity_from_wire(record.get("startDate"), record.get("endDate")),
    )
