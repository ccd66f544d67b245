"""Card encoder failures translated to the canonical lock errors of :mod:`app.domain.errors`.

The encoder refuses a command with ``ER|seq|<code>|<text>``; the table below is the whole contract between its codes
and the rest of the service. Serial failures (the port vanished because the encoder was unplugged, no answer in
time, a reply corrupted on the wire) are translated by the functions below. Callers chain the cause.
"""

from __future__ import annotations

from typing import Final

from app.domain.errors import (
    CredentialNotFound,
    DuplicateCredential,
    GatewayBusy,
    InvalidRequest,
    LockError,
    VendorTimeout,
    VendorUnavailable,
)


class EncoderAnswer(Exception):
    """What the encoder actually answered, kept as ``__cause__`` of the canonical error so operators can see it."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(f"{code}: {text}")
        self.code, self.text = code, text


# ER code -> (canonical error, note for operators)
CODES: Final[dict[str, tuple[type[LockError], str]]] = {
    "CK": (VendorUnavailable, "the encoder received our frame with a bad checksum (line noise)"),
    "FR": (VendorUnavailable, "the encoder could not frame our command (line noise or a cut line)"),
    "NC": (VendorUnavailable, "no card on the encoder: put a blank card on it"),
    "WR": (VendorUnavailable, "writing the card failed: it was taken away too early"),
    "BSY": (GatewayBusy, "the encoder is writing another card"),
    "DUP": (DuplicateCredential, "a live card with this number exists: use another card number"),
    "ZN": (CredentialNotFound, "the encoder does not know this zone (lock)"),
    "NF": (CredentialNotFound, "no live card with this number"),
    "ARG": (InvalidRequest, "the encoder refused an argument"),
}


def translate(code: str, text: str) -> LockError:
    """The canonical error for an encoder ER code; unknown codes are VendorUnavailable (bounded retries)."""
    error_type, note = CODES.get(code, (VendorUnavailable, "unknown encoder error code"))
    return error_type(f"encoder {code}: {note} ({text})", vendor_code=code)


def unplugged(port: str, err: BaseException) -> VendorUnavailable:
    """The serial port is gone or broke: the encoder is unplugged, powered off or held by another program."""
    return VendorUnavailable(f"encoder on {port} unreachable: {type(err).__name__}: {err}", vendor_code="unplugged")


def no_answer(port: str, timeout_s: float) -> VendorTimeout:
    """No reply in time: the card may or may not have been written."""
    return VendorTimeout(f"encoder on {port} did not answer within {timeout_s:g}s", vendor_code="timeout")


def corrupt(port: str, detail: str) -> VendorUnavailable:
    """A reply that is not a valid frame: the exchange is lost, retry it."""
    return VendorUnavailable(f"encoder on {port} answered a corrupt line: {detail}", vendor_code="malformed")
