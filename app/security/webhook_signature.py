"""Standard Webhooks signatures (https://www.standardwebhooks.com): HMAC-SHA256 over ``id.timestamp.body``.

A sender puts ``webhook-id``, ``webhook-timestamp`` (Unix seconds) and ``webhook-signature`` (space-separated
``v1,<base64>`` entries, several while it rotates its secret) on every request. :func:`verify` accepts a request when
any ``v1`` signature matches any of the receiver's current secrets and the timestamp is within the tolerance; every
refusal is a :class:`SignatureRejected` with a stable reason code, never another exception, whatever the headers hold.
The ``standardwebhooks`` package implements the same scheme but cannot report why it refused, takes the clock from the
system and raises other errors on malformed headers, so the ingress verifies here and tests cross-check against it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from pydantic import BaseModel, ConfigDict, FieldSerializationInfo, SecretStr, field_serializer

TOLERANCE_S: Final = 300
MAX_WEBHOOK_ID: Final = 256  # the replay key is stored; an unbounded one would be a way to fill the database
SECRET_PREFIX: Final = "whsec_"
REVEAL: Final = {"reveal": True}  # serialisation context that writes secrets in clear, only to seal them
_MAX_SIGNATURES: Final = 8  # a rotating sender sends two or three; more is an attempt to make us hash a lot


class SignatureRejected(Exception):
    """The request is not authentically from the holder of a secret; ``reason`` is a stable code for metrics."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True)
class SignedMessage:
    """What a verified request vouches for: its id (the replay key) and its timestamp."""

    webhook_id: str
    timestamp: int


class SigningSecret(BaseModel):
    """One secret of an endpoint; ``not_after`` ends a rotated-out secret's grace period."""

    model_config = ConfigDict(frozen=True)

    secret: SecretStr
    not_after: datetime | None = None

    @field_serializer("secret")
    def _secret(self, value: SecretStr, info: FieldSerializationInfo) -> str:
        return _dump(value, info)


class EndpointSecrets(BaseModel):
    """What authenticates one tenant's webhooks of one vendor: signing secrets, or a callback path secret."""

    model_config = ConfigDict(frozen=True)

    signing: tuple[SigningSecret, ...] = ()
    path_secret: SecretStr | None = None

    @field_serializer("path_secret")
    def _path_secret(self, value: SecretStr | None, info: FieldSerializationInfo) -> str | None:
        return None if value is None else _dump(value, info)

    def keys(self, now: datetime) -> list[bytes]:
        """The signing keys valid at ``now``: the current one and those still in their rotation grace period."""
        return [decode_secret(s.secret.get_secret_value()) for s in self.signing
                if s.not_after is None or now < s.not_after]

    def rotated(self, new_secret: str, *, now: datetime, grace: timedelta) -> EndpointSecrets:
        """``new_secret`` becomes current; older secrets stay valid for ``grace`` at most, expired ones are dropped."""
        decode_secret(new_secret)  # refuse a malformed secret before it replaces a working one
        until = now + grace
        kept = tuple(SigningSecret(secret=s.secret, not_after=min(s.not_after or until, until))
                     for s in self.signing if s.not_after is None or s.not_after > now)
        return self.model_copy(update={"signing": (SigningSecret(secret=SecretStr(new_secret)), *kept)})


def decode_secret(secret: str) -> bytes:
    """The key bytes of a ``whsec_<base64>`` secret; ValueError when it is not one."""
    raw = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(raw, validate=True)
    except binascii.Error as err:
        raise ValueError("a webhook secret is whsec_ followed by standard base64") from err
    if len(key) < 16:
        raise ValueError("a webhook secret needs at least 16 random bytes")
    return key


def sign(key: bytes, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The ``v1,<base64>`` signature of a message, as a sender puts it in ``webhook-signature``."""
    return "v1," + base64.b64encode(_mac(key, webhook_id, timestamp, body)).decode()


def verify(keys: Sequence[bytes], headers: Mapping[str, str], body: bytes, *, now: float,
           tolerance_s: int = TOLERANCE_S) -> SignedMessage:
    """Check a request's Standard Webhooks headers against ``keys`` (current and rotated-in secrets).

    The timestamp is checked before any MAC is computed, so a stale replay costs us no hashing.
    """
    webhook_id = headers.get("webhook-id", "")
    raw_timestamp = headers.get("webhook-timestamp", "")
    raw_signatures = headers.get("webhook-signature", "")
    if not (webhook_id and raw_timestamp and raw_signatures):
        raise SignatureRejected("missing_signature_headers", "webhook-id, webhook-timestamp and webhook-signature "
                                "are required")
    if len(webhook_id) > MAX_WEBHOOK_ID or not webhook_id.isascii() or not webhook_id.isprintable():
        raise SignatureRejected("malformed_webhook_id", f"webhook-id must be printable ASCII, {MAX_WEBHOOK_ID} "
                                "characters at most")
    if not raw_timestamp.isascii() or not raw_timestamp.isdigit() or len(raw_timestamp) > 12:
        raise SignatureRejected("malformed_timestamp", "webhook-timestamp must be Unix seconds")
    timestamp = int(raw_timestamp)
    if timestamp < now - tolerance_s:
        raise SignatureRejected("timestamp_too_old", f"webhook-timestamp is more than {tolerance_s}s in the past")
    if timestamp > now + tolerance_s:
        raise SignatureRejected("timestamp_too_new", f"webhook-timestamp is more than {tolerance_s}s in the future")
    offered = _v1_signatures(raw_signatures)
    if not offered:
        raise SignatureRejected("malformed_signature", "webhook-signature holds no v1,<base64> signature")
    for key in keys:
        expected = _mac(key, webhook_id, timestamp, body)
        # compare_digest: the time taken must not tell an attacker how many leading bytes were right.
        if any(hmac.compare_digest(expected, candidate) for candidate in offered):
            return SignedMessage(webhook_id=webhook_id, timestamp=timestamp)
    raise SignatureRejected("bad_signature", "no signature matches a current secret of this endpoint")


def same_secret(offered: str, expected: str) -> bool:
    """Constant-time equality of two secrets (e.g. a callback path secret), false for non-ASCII input."""
    return hmac.compare_digest(offered.encode("utf-8", "surrogateescape"), expected.encode())


def _dump(value: SecretStr, info: FieldSerializationInfo) -> str:
    # Masked everywhere (logs, reprs, errors) except where the caller asked for REVEAL to seal the value.
    return value.get_secret_value() if (info.context or {}).get("reveal") else str(value)


def _mac(key: bytes, webhook_id: str, timestamp: int, body: bytes) -> bytes:
    return hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()


def _v1_signatures(header: str) -> list[bytes]:
    """The decodable ``v1`` signatures of the header; other versions and garbage entries are skipped."""
    found: list[bytes] = []
    for entry in header.split(" ")[:_MAX_SIGNATURES]:
        version, _, encoded = entry.partition(",")
        if version != "v1":
            continue
        try:
            found.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue
    return found
