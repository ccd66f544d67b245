"""Standard Webhooks vendors at the ingress (Salto and generic vendors): signature first, then the event.

The body is verified as raw bytes before it is parsed. Salto sends its event callbacks (``id``, ``type``,
``occurredAt``, ``accessPointId``, ``extUserId`` = our credential label, ``batteryLevel``). Any other vendor of the
directory that signs with Standard Webhooks (a generic vendor) follows the scheme's payload convention,
``{"type": ..., "timestamp": ..., "data": {...}}``, with the vendor's lock id in ``data.lock_id``:

    {"type": "lock.offline", "timestamp": "2026-12-01T10:00:00Z", "data": {"lock_id": "70001"}}
    {"type": "lock.battery", "timestamp": "...", "data": {"lock_id": "70001", "battery_percent": 15}}
    {"type": "credential.applied", "timestamp": "...", "data": {"lock_id": "70001", "credential": "lis-3f2a..."}}
    {"type": "lock.unlocked", "timestamp": "...", "data": {"lock_id": "70001", "method": "card", "success": true}}

A type we do not know is passed on as ``unknown`` with the vendor's name kept, to be recorded, not refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from app.domain.lock_status import VendorEvent, VendorEventType
from app.ingress.guards import Refusal, unavailable
from app.security.webhook_signature import EndpointSecrets, SignatureRejected, SignedMessage, verify

_LOCK_ID = r"^[^\x00-\x1f\x7f]+$"  # looked up in PostgreSQL, which stores no control characters (NUL)
_KNOWN = {t.value: t for t in VendorEventType if t is not VendorEventType.UNKNOWN}
# Salto event type -> canonical report type and whether the access succeeded.
_SALTO = {"door.opened": (VendorEventType.UNLOCKED, True), "door.denied": (VendorEventType.UNLOCKED, False),
          "accessPoint.offline": (VendorEventType.LOCK_OFFLINE, True),
          "accessPoint.online": (VendorEventType.LOCK_ONLINE, True), "battery.low": (VendorEventType.BATTERY, True)}


class _Data(BaseModel):
    model_config = ConfigDict(extra="ignore")

    lock_id: str = Field(min_length=1, max_length=64, pattern=_LOCK_ID)
    battery_percent: int | None = Field(default=None, ge=0, le=100)
    credential: str | None = Field(default=None, max_length=128)
    method: str | None = Field(default=None, max_length=32)
    success: bool = True


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: str = Field(min_length=1, max_length=100)
    timestamp: AwareDatetime
    data: _Data


class _SaltoEvent(BaseModel):
    # Lenient on ``type`` on purpose: a Salto event type we do not know yet is recorded downstream, not refused.
    model_config = ConfigDict(extra="ignore")

    type: str = Field(min_length=1, max_length=100)
    occurred_at: AwareDatetime = Field(alias="occurredAt")
    access_point_id: str = Field(alias="accessPointId", min_length=1, max_length=64, pattern=_LOCK_ID)
    ext_user_id: str | None = Field(default=None, alias="extUserId", max_length=128)
    battery_level: int | None = Field(default=None, alias="batteryLevel", ge=0, le=100)


def authenticate(secrets: EndpointSecrets, headers: Mapping[str, str], body: bytes, now: datetime) -> SignedMessage:
    """The verified message id and timestamp; 401 with the signature check's reason code otherwise."""
    try:
        keys = secrets.keys(now)
    except ValueError as err:
        raise unavailable("secret_unreadable", "a stored secret of this endpoint is not a whsec_ secret") from err
    if not keys:
        raise Refusal(401, "no_current_secret", "every secret of this endpoint has expired")
    lowered = {name.lower(): value for name, value in headers.items()}
    try:
        return verify(keys, lowered, body, now=now.timestamp())
    except SignatureRejected as err:
        raise Refusal(401, err.reason, str(err)) from err


def parse(vendor: str, body: bytes) -> tuple[str, VendorEvent]:
    """The vendor's lock id and the canonical report of a verified body; 400 when it is not such an event."""
    try:
        if vendor == "salto":
            return _salto(_SaltoEvent.model_validate_json(body))
        return _generic(_Payload.model_validate_json(body))
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise Refusal(400, "malformed_payload", f"{where}: {first['msg']}") from err


def _salto(event: _SaltoEvent) -> tuple[str, VendorEvent]:
    kind, success = _SALTO.get(event.type, (VendorEventType.UNKNOWN, True))
    return event.access_point_id, VendorEvent(
        type=kind, vendor_type=f"salto.{event.type}", occurred_at=event.occurred_at,
        battery_percent=event.battery_level, credential=event.ext_user_id, success=success)


def _generic(payload: _Payload) -> tuple[str, VendorEvent]:
    data = payload.data
    return data.lock_id, VendorEvent(
        type=_KNOWN.get(payload.type, VendorEventType.UNKNOWN), vendor_type=payload.type,
        occurred_at=payload.timestamp, battery_percent=data.battery_percent, credential=data.credential,
        method=data.method, success=data.success)
