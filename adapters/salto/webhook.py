"""Salto event callbacks: their payload, and the Standard Webhooks headers the sandbox signs them with; no I/O.

Salto's event stream posts one JSON event per callback (``id``, ``type``, ``occurredAt``, ``accessPointId`` and, for
door events, ``extUserId`` = our credential label, or ``batteryLevel``), signed with the Standard Webhooks scheme:
``webhook-id``, ``webhook-timestamp``, ``webhook-signature`` = ``v1,<base64 HMAC-SHA256(secret, id.timestamp.body)>``,
one signature per secret while a secret is rotated. The HMAC and its verification are the service's own
(:mod:`app.security.webhook_signature`, used by the ingress); this module adds what is Salto's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from app.security.webhook_signature import SignatureRejected, decode_secret, sign, verify

EventType = Literal["door.opened", "door.denied", "accessPoint.offline", "accessPoint.online", "battery.low"]


class WebhookRejected(ValueError):
    """A callback that is not authentic, too old or too new, or not a Salto event."""


class SaltoEvent(BaseModel):
    """One Salto event as Salto's event stream (and the sandbox) reports it."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    event_id: str = Field(alias="id", min_length=1, max_length=64)
    type: EventType
    occurred_at: AwareDatetime = Field(alias="occurredAt")
    access_point_id: str = Field(alias="accessPointId", min_length=1, max_length=64)
    ext_user_id: str | None = Field(default=None, alias="extUserId", max_length=128)
    battery_level: int | None = Field(default=None, alias="batteryLevel", ge=0, le=100)


def signed_headers(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers of a callback, one signature per ``whsec_…`` secret."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(decode_secret(s), msg_id, timestamp, body) for s in secrets),
    }


def verify_callback(body: bytes, headers: Mapping[str, str], secrets: Sequence[str], now: datetime) -> SaltoEvent:
    """The event of an authentic callback (signature first, then payload); WebhookRejected otherwise."""
    lowered = {name.lower(): value for name, value in headers.items()}
    try:
        verify([decode_secret(s) for s in secrets], lowered, body, now=now.timestamp())
    except SignatureRejected as err:
        raise WebhookRejected(f"{err.reason}: {err}") from err
    try:
        return SaltoEvent.model_validate_json(body)
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise WebhookRejected(f"Salto event field {where}: {first['msg']}") from err
