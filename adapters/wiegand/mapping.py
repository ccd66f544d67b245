"""Conversions for Generic Wiegand cards: H10301 bits with parity, the encoder's time format, vendor refs.

H10301 (26 bits, transmitted first to last): bit 0 is even parity over bits 1-12, bits 1-8 the facility code
(0-255), bits 9-24 the card number (0-65535), bit 25 odd parity over bits 13-24. As an integer the first bit
transmitted is the most significant. The serial converter carries only the 24 data bits (:func:`data_bits`).
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from app.domain.credential import CredentialKind, IssuedCredential, Validity

FACILITY_MAX = 0xFF
CARD_MAX = 0xFFFF
WIRE_TIME_FORMAT = "%y%m%d%H%M%S"  # the encoder keeps UTC, like the locks' clocks: no zone, no DST
_REF_PREFIX = "h10301t:"
_LEGACY_REF = re.compile(r"h10301:([0-9]{1,3}):([0-9]{1,5})")
_REF_CONTEXT = b"lis-wiegand-card-ref-v1"
_NAME = re.compile(r"[A-Za-z0-9._-]{1,32}")  # labels and zone names travel inside frames
_DIGITS = re.compile(r"[0-9]{1,5}")


class ParityError(ValueError):
    """26 bits whose parity bits do not match their data: a misread or forged card."""


def _ones(value: int) -> int:
    return bin(value).count("1")


def data_bits(facility: int, card: int) -> int:
    """The 24 data bits (facility code, card number) the converter exchanges; ValueError when out of range."""
    if not 0 <= facility <= FACILITY_MAX:
        raise ValueError(f"facility code {facility} is outside 0..{FACILITY_MAX}")
    if not 0 <= card <= CARD_MAX:
        raise ValueError(f"card number {card} is outside 0..{CARD_MAX}")
    return facility << 16 | card


def split_data(data: int) -> tuple[int, int]:
    """Facility code and card number of 24 data bits."""
    if not 0 <= data < 1 << 24:
        raise ValueError(f"{data:#x} is not 24 data bits")
    return data >> 16, data & CARD_MAX


def encode_h10301(facility: int, card: int) -> int:
    """The 26 bits of a card, parity included."""
    data = data_bits(facility, card)
    leading = _ones(data >> 12) % 2  # makes bits 0-12 even
    trailing = 1 - _ones(data & 0xFFF) % 2  # makes bits 13-25 odd
    return leading << 25 | data << 1 | trailing


def decode_h10301(raw: int) -> tuple[int, int]:
    """Facility code and card number of 26 bits; ParityError when either parity bit is wrong."""
    if not 0 <= raw < 1 << 26:
        raise ValueError(f"{raw:#x} is not 26 bits")
    data = raw >> 1 & 0xFFFFFF
    if ((raw >> 25) + _ones(data >> 12)) % 2 != 0:
        raise ParityError(f"even parity over bits 0-12 fails for {raw:07X}")
    if ((raw & 1) + _ones(data & 0xFFF)) % 2 != 1:
        raise ParityError(f"odd parity over bits 13-25 fails for {raw:07X}")
    return split_data(data)


def to_hex6(facility: int, card: int) -> str:
    """The converter's 6 upper-case hex characters of a card."""
    return f"{data_bits(facility, card):06X}"


def to_wire_time(moment: datetime) -> str:
    """``YYMMDDhhmmss`` in UTC, as the encoder writes validity onto the card."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("card times must be computed from time-zone aware datetimes")
    utc = moment.astimezone(UTC)
    if not 2000 <= utc.year <= 2099:
        raise ValueError(f"the encoder's two-digit years cannot hold {utc.year}")
    return utc.strftime(WIRE_TIME_FORMAT)


def from_wire_time(text: str) -> datetime:
    """The UTC instant of an encoder time; ValueError if it is not ``YYMMDDhhmmss``."""
    if not re.fullmatch(r"[0-9]{12}", text):
        raise ValueError(f"not an encoder time: {text!r}")
    return datetime.strptime(text, WIRE_TIME_FORMAT).replace(tzinfo=UTC)


def validity_to_wire(validity: Validity) -> tuple[str, str]:
    """The ``from`` and ``until`` fields of an encode command."""
    return to_wire_time(validity.starts_at), to_wire_time(validity.ends_at)


class CardRefs:
    """The vendor_ref of a card, without its number in it: AES-SIV of ``facility:card`` under the tenant's card-token
    key. Deterministic (one card, one ref: a listing's refs match the sagas'), opened only with the key (a revoke
    blocklists the card by its number), so events, audit records, ops views and logs carry a token, never a card."""

    def __init__(self, key: bytes) -> None:
        self._siv = AESSIV(key)

    def encode(self, facility: int, card: int) -> str:
        data_bits(facility, card)
        sealed = self._siv.encrypt(f"{facility}:{card}".encode(), [_REF_CONTEXT])
        return _REF_PREFIX + base64.urlsafe_b64encode(sealed).rstrip(b"=").decode()

    def decode(self, vendor_ref: str) -> tuple[int, int]:
        """Facility code and card number of a ref this key made (or of a plain ``h10301:F:C`` ref that records
        written before the tokens still hold: their revokes must still blocklist the card); ValueError otherwise."""
        if (legacy := _LEGACY_REF.fullmatch(vendor_ref)) is not None:
            facility, card = int(legacy[1]), int(legacy[2])
            data_bits(facility, card)
            return facility, card
        if not vendor_ref.startswith(_REF_PREFIX):
            raise ValueError("not a Wiegand vendor_ref")
        token = vendor_ref.removeprefix(_REF_PREFIX)
        try:
            plain = self._siv.decrypt(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)), [_REF_CONTEXT])
        except (InvalidTag, ValueError) as err:
            raise ValueError("a Wiegand vendor_ref this tenant's key did not make") from err
        facility, card = (int(part) for part in plain.decode().split(":"))
        data_bits(facility, card)
        return facility, card


def card_number(secret: str | None) -> int:
    """The card number of an issue request: 0 to 65535 in IssueRequest.secret."""
    if secret is None or not _DIGITS.fullmatch(secret) or int(secret) > CARD_MAX:
        raise ValueError(f"a Wiegand card needs a card number 0..{CARD_MAX} in IssueRequest.secret")
    return int(secret)


def check_name(value: str, what: str) -> str:
    """A label or zone name that can travel inside a frame."""
    if not _NAME.fullmatch(value):
        raise ValueError(f"{what} {value!r} must be 1 to 32 of A-Z a-z 0-9 . _ -")
    return value


def credential_from_journal(entry: str, refs: CardRefs) -> IssuedCredential:
    """One ``LS`` journal entry (``<data6>,<from>,<until>,<label>``) as a canonical credential."""
    data, start, end, label = entry.split(",")
    facility, card = split_data(int(data, 16))
    return IssuedCredential(
        vendor_ref=refs.encode(facility, card),
        kind=CredentialKind.CARD,
        label=label,
        validity=Validity(starts_at=from_wire_time(start), ends_at=from_wire_time(end)),
    )
