"""What vendors tell us about a lock, and the pure step that applies it:
``step_lock_status(condition, webhook) -> (condition, events)``.

The ingress turns every verified vendor callback into one :class:`VendorWebhook` on ``vendor.webhooks`` (keyed by the
lock); the webhook agent keeps one :class:`LockCondition` per lock and emits canonical :class:`LockStatusEvent` s on
``lock.events``. Delivery is at least once, so a webhook id already applied is ignored, event ids are derived from the
webhook id, and a status report older than the one applied last does not overwrite it.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, Field

from app.domain.credential import Frozen

SCHEMA_VERSION = 1
LOW_BATTERY_PERCENT = 20  # below this a housekeeping round should change the batteries
_REMEMBERED_WEBHOOKS = 64  # enough to absorb a vendor's retry burst; older duplicates are caught by the ingress
_REMEMBERED_CREDENTIALS = 256


class VendorEventType(StrEnum):
    """Canonical kinds of vendor report; ``unknown`` keeps reports we cannot interpret yet."""

    CREDENTIAL_APPLIED = "credential.applied"
    LOCK_ONLINE = "lock.online"
    LOCK_OFFLINE = "lock.offline"
    BATTERY = "lock.battery"
    UNLOCKED = "lock.unlocked"
    UNKNOWN = "unknown"


class VendorEvent(Frozen):
    """One report inside a webhook. PII (account names) and secrets (PINs, card numbers) never get here."""

    type: VendorEventType
    vendor_type: str  # the vendor's own name for it, e.g. ``ttlock.recordType.4``
    occurred_at: AwareDatetime
    battery_percent: int | None = Field(default=None, ge=0, le=100)
    credential: str | None = None  # our label or the vendor's reference of the credential concerned
    method: str | None = None  # how the door was opened: passcode, card, app...
    success: bool = True


class VendorWebhook(Frozen):
    """A verified, normalised vendor callback: the value on ``vendor.webhooks``, keyed tenant/region/lock."""

    webhook_id: str
    vendor: str
    tenant: str
    region: str
    property: str
    lock_id: str
    vendor_lock_id: str
    received_at: AwareDatetime
    events: tuple[VendorEvent, ...] = Field(min_length=1)


class LockStatusEventType(StrEnum):
    STATUS_CHANGED = "lock.status_changed"
    CREDENTIAL_CONFIRMED = "credential.confirmed"
    UNLOCKED = "lock.unlocked"
    UNLOCK_FAILED = "lock.unlock_failed"


class LockStatusEvent(Frozen):
    """A canonical event on ``lock.events`` about the lock itself (schema version :data:`SCHEMA_VERSION`)."""

    event_id: str
    type: LockStatusEventType
    version: int = SCHEMA_VERSION
    tenant: str
    region: str
    property: str
    lock_id: str
    vendor: str
    online: bool | None = None
    battery_percent: int | None = None
    battery_low: bool | None = None
    credential: str | None = None
    method: str | None = None
    source_webhook_id: str
    occurred_at: AwareDatetime


class LockCondition(Frozen):
    """The last known condition of one lock, as its vendor reported it."""

    online: bool | None = None
    status_at: datetime | None = None
    battery_percent: int | None = None
    battery_at: datetime | None = None
    confirmed_credentials: tuple[str, ...] = ()
    unlocks: int = 0
    unrecognised: dict[str, int] = Field(default_factory=dict)
    seen_webhooks: tuple[str, ...] = ()

    @property
    def battery_low(self) -> bool | None:
        return None if self.battery_percent is None else self.battery_percent < LOW_BATTERY_PERCENT


def step_lock_status(condition: LockCondition | None, webhook: VendorWebhook
                     ) -> tuple[LockCondition, list[LockStatusEvent]]:
    """Apply one webhook to the lock's condition; the events to emit, in the order of the webhook's reports."""
    current = condition or LockCondition()
    if webhook.webhook_id in current.seen_webhooks:
        return current, []  # a redelivery: everything it says was applied and emitted already
    events: list[LockStatusEvent] = []
    for index, report in enumerate(webhook.events):
        current, emitted = _apply(current, report, _EventFactory(webhook, index))
        events += emitted
    seen = (*current.seen_webhooks, webhook.webhook_id)[-_REMEMBERED_WEBHOOKS:]
    return current.model_copy(update={"seen_webhooks": seen}), events


class _EventFactory:
    """Builds the events of one report of one webhook with ids stable across redeliveries."""

    def __init__(self, webhook: VendorWebhook, index: int) -> None:
        self._webhook, self._index = webhook, index

    def __call__(self, kind: LockStatusEventType, report: VendorEvent, **fields: object) -> LockStatusEvent:
        hook = self._webhook
        digest = hashlib.sha256(f"{hook.vendor}|{hook.webhook_id}|{self._index}|{kind}".encode()).hexdigest()[:32]
        return LockStatusEvent.model_validate({
            "event_id": digest, "type": kind, "tenant": hook.tenant, "region": hook.region,
            "property": hook.property, "lock_id": hook.lock_id, "vendor": hook.vendor,
            "source_webhook_id": hook.webhook_id, "occurred_at": report.occurred_at, **fields,
        })


def _apply(current: LockCondition, report: VendorEvent, make: _EventFactory) -> tuple[LockCondition,
                                                                                       list[LockStatusEvent]]:
    events: list[LockStatusEvent] = []
    if report.battery_percent is not None:
        current, events = _battery(current, report, make)
    if report.type in (VendorEventType.LOCK_ONLINE, VendorEventType.LOCK_OFFLINE):
        return _connectivity(current, report, make)
    if report.type is VendorEventType.CREDENTIAL_APPLIED:
        return _confirm(current, report, make, events)
    if report.type is VendorEventType.UNLOCKED:
        if report.success:
            current = current.model_copy(update={"unlocks": current.unlocks + 1})
            current, events = _confirm(current, report, make, events)
        kind = LockStatusEventType.UNLOCKED if report.success else LockStatusEventType.UNLOCK_FAILED
        return current, [*events, make(kind, report, method=report.method)]
    if report.type is VendorEventType.UNKNOWN:
        # Recorded, not crashed on: operators see which vendor reports we do not interpret yet, and how often.
        counts = {**current.unrecognised, report.vendor_type: current.unrecognised.get(report.vendor_type, 0) + 1}
        current = current.model_copy(update={"unrecognised": counts})
    return current, events


def _connectivity(current: LockCondition, report: VendorEvent, make: _EventFactory) -> tuple[LockCondition,
                                                                                             list[LockStatusEvent]]:
    if current.status_at is not None and report.occurred_at < current.status_at:
        return current, []  # older than the status already applied: a late delivery must not flip it back
    online = report.type is VendorEventType.LOCK_ONLINE
    changed = current.online != online
    current = current.model_copy(update={"online": online, "status_at": report.occurred_at})
    if not changed:
        return current, []
    return current, [make(LockStatusEventType.STATUS_CHANGED, report, online=online,
                          battery_percent=current.battery_percent, battery_low=current.battery_low)]


def _battery(current: LockCondition, report: VendorEvent, make: _EventFactory) -> tuple[LockCondition,
                                                                                        list[LockStatusEvent]]:
    if current.battery_at is not None and report.occurred_at < current.battery_at:
        return current, []
    was_low = current.battery_low
    current = current.model_copy(update={"battery_percent": report.battery_percent,
                                         "battery_at": report.occurred_at})
    if current.battery_low == was_low or (was_low is None and not current.battery_low):
        return current, []  # only a crossing of the threshold (or a first low reading) is news
    return current, [make(LockStatusEventType.STATUS_CHANGED, report, online=current.online,
                          battery_percent=current.battery_percent, battery_low=current.battery_low)]


def _confirm(current: LockCondition, report: VendorEvent, make: _EventFactory,
             events: list[LockStatusEvent]) -> tuple[LockCondition, list[LockStatusEvent]]:
    credential = report.credential
    if credential is None or credential in current.confirmed_credentials:
        return current, events
    confirmed = (*current.confirmed_credentials, credential)[-_REMEMBERED_CREDENTIALS:]
    current = current.model_copy(update={"confirmed_credentials": confirmed})
    return current, [*events, make(LockStatusEventType.CREDENTIAL_CONFIRMED, report, credential=credential)]
