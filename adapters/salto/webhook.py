"""Salto event callbacks: their payload, and the Standard Webhooks headers the sandbox signs them with; no I/O.

Salto's event stream posts one JSON event per callback (``id``, ``type``, ``occurredAt``, ``accessPointId`` and, for
door events, ``extUserId`` = our credential label, or ``batteryLevel``), signed with the Standard Webhooks scheme:
``webhook-id``, ``webhook-timestamp``, ``webhook-signature`` = ``v1,<base64 HMAC-SHA256(secret, id.timestamp.body)>``,
one signature per secret while a secret is rotated. The HMAC and its verification are the service's own
(:mod:`app.security.webhook_signature`, used by the ingress); this module adds what is Salto's: its event payload and
how it reads as canonical events (:data:`FORMAT`, the ``webhooks`` of Salto's spec).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from adapters.standard_webhooks import LOCK_ID, SignedFormat, read_payload
from adapters.vendor_spec import ParsedWebhook, WebhookRefused
from app.domain.lock_status import VendorEvent, VendorEventType
from app.security.webhook_signature import SignatureRejected, decode_secret, sign, verify

# Salto event type -> canonical report type and whether the access succeeded.
_CANONICAL: dict[str, tuple[VendorEventType, bool]] = {
    "door.opened": (VendorEventType.UNLOCKED, True), "door.denied": (VendorEventType.UNLOCKED, False),
    "accessPoint.offline": (VendorEventType.LOCK_OFFLINE, True),
    "accessPoint.online": (VendorEventType.LOCK_ONLINE, True), "battery.low": (VendorEventType.BATTERY, True)}


class WebhookRejected(ValueError):
    """A callback that is not authentic, too old or too new, or not a Salto event."""


class SaltoEvent(BaseModel):
    """One Salto event as Salto's event stream (and the sandbox) reports it. Lenient on ``type`` on purpose: a
    Salto event type we do not know yet is recorded downstream as ``unknown``, not refused."""

    model_config = ConfigDict(frozen=True, extra="ignore")  # Salto's own field names only, as on the wire

    event_id: str | int | None = Field(default=None, alias="id")  # not relied on: the webhook-id header is the id
    type: str = Field(min_length=1, max_length=100)
    occurred_at: AwareDatetime = Field(alias="occurredAt")
    access_point_id: str = Field(alias="accessPointId", min_length=1, max_length=64, pattern=LOCK_ID)
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
        return read_payload(SaltoEvent, body)
    except WebhookRefused as err:
        raise WebhookRejected(f"Salto event field {err.detail}") from err


def salto_event(body: bytes) -> ParsedWebhook:
    """The access point and canonical event of a verified Salto callback."""
    event = read_payload(SaltoEvent, body)
    kind, success = _CANONICAL.get(event.type, (VendorEventType.UNKNOWN, True))
    return ParsedWebhook(vendor_lock_id=event.access_point_id, events=(VendorEvent(
        type=kind, vendor_type=f"salto.{event.type}", occurred_at=event.occurred_at,
        battery_percent=event.battery_level, credential=event.ext_user_id, success=success),))


FORMAT = SignedFormat(salto_event)
