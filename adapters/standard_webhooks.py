"""Webhooks signed with the Standard Webhooks scheme, and the scheme's generic payload convention.

The ingress verifies the signature on the raw bytes before any format reads the body
(:mod:`app.security.webhook_signature`). A vendor that signs this way but has no payload of its own (a generic
vendor, e.g. a new one added as a folder) follows the convention ``{"type": ..., "timestamp": ..., "data": {...}}``
with the vendor's lock id in ``data.lock_id``:

    {"type": "lock.offline", "timestamp": "2026-12-01T10:00:00Z", "data": {"lock_id": "70001"}}
    {"type": "lock.battery", "timestamp": "...", "data": {"lock_id": "70001", "battery_percent": 15}}
    {"type": "credential.applied", "timestamp": "...", "data": {"lock_id": "70001", "credential": "lis-3f2a..."}}
    {"type": "lock.unlocked", "timestamp": "...", "data": {"lock_id": "70001", "method": "card", "success": true}}

A type we do not know is passed on as ``unknown`` with the vendor's name kept, to be recorded, not refused.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from adapters.vendor_spec import ParsedWebhook, WebhookRefused
from app.domain.credential import LockRef
from app.domain.lock_port import LockPort
from app.domain.lock_status import VendorEvent, VendorEventType

LOCK_ID = r"^[^\x00-\x1f\x7f]+$"  # looked up in PostgreSQL, which stores no control characters (NUL)
_KNOWN = {t.value: t for t in VendorEventType if t is not VendorEventType.UNKNOWN}
M = TypeVar("M", bound=BaseModel)


class _Data(BaseModel):
    model_config = ConfigDict(extra="ignore")

    lock_id: str = Field(min_length=1, max_length=64, pattern=LOCK_ID)
    battery_percent: int | None = Field(default=None, ge=0, le=100)
    credential: str | None = Field(default=None, max_length=128)
    method: str | None = Field(default=None, max_length=32)
    success: bool = True


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: str = Field(min_length=1, max_length=100)
    timestamp: AwareDatetime
    data: _Data


def read_payload(model: type[M], body: bytes) -> M:
    """``body`` read as ``model``; WebhookRefused (400, ``malformed_payload``) naming the first bad field."""
    try:
        return model.model_validate_json(body)
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise WebhookRefused(400, "malformed_payload", f"{where}: {first['msg']}") from err


class SignedFormat:
    """A Standard Webhooks vendor's format: the signature is the proof, so the events need no confirming."""

    signed = True
    ack_text = None

    def __init__(self, read: Callable[[bytes], ParsedWebhook]) -> None:
        self._read = read

    def parse(self, body: bytes) -> ParsedWebhook:
        return self._read(body)

    async def confirm(self, parsed: ParsedWebhook, port: LockPort, lock: LockRef,
                      not_before: datetime) -> tuple[VendorEvent, ...]:
        return parsed.events


def generic_event(body: bytes) -> ParsedWebhook:
    """The lock and event of a body in the generic payload convention."""
    payload = read_payload(_Payload, body)
    data = payload.data
    event = VendorEvent(type=_KNOWN.get(payload.type, VendorEventType.UNKNOWN), vendor_type=payload.type,
                        occurred_at=payload.timestamp, battery_percent=data.battery_percent,
                        credential=data.credential, method=data.method, success=data.success)
    return ParsedWebhook(vendor_lock_id=data.lock_id, events=(event,))


GENERIC = SignedFormat(generic_event)
