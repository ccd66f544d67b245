"""TTLock callbacks at the ingress: a path secret instead of a signature, and every record confirmed with TTLock.

TTLock does not sign callbacks, so anyone who learns the callback URL could forge one. Two checks make a callback
trustworthy: the per-tenant secret in the path (the ingress compares it in constant time: :data:`FORMAT` is
unsigned), and each record being listed by TTLock's own ``/v3/lockRecord/list`` for that lock; what we pass on is
TTLock's listed copy, not the callback's claim. TTLock callbacks carry no id, so the replay key is the lock and its
records (:attr:`ParsedWebhook.identity`, which the ingress keys with the tenant's webhook-id key: the records include
the passcode typed), and records TTLock stored before the receipt retention are refused (their receipts may be gone).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import parse_qsl

from adapters.ttlock.client import TTLockClient
from adapters.ttlock.webhook import ACK, TTLockCallback, TTLockRecord, parse_callback
from adapters.vendor_spec import ParsedWebhook, WebhookRefused
from app.domain.credential import LockRef
from app.domain.errors import LockError
from app.domain.lock_port import LockPort
from app.domain.lock_status import VendorEvent, VendorEventType

# TTLock cloud recordType -> how the door was opened. Other record types are passed on as ``unknown``.
UNLOCK_METHODS = {1: "app", 4: "passcode", 7: "card", 8: "fingerprint", 10: "mechanical_key", 12: "gateway",
                  46: "unlock_button", 49: "hotel_card", 55: "remote"}
# For passcode and card records TTLock's ``username`` is the credential's name, which for ours is its label
# (``lis-`` + digest, no guest data); for app records it is the guest's account name, which never leaves here.
_NAMED_BY_CREDENTIAL = frozenset({4, 7})
_LABEL_PREFIX = "lis-"
_MAX_FORM_FIELDS = 16
_CLOCK_SLACK = timedelta(seconds=1)  # the list filter is inclusive milliseconds; a little slack costs nothing


def parse(body: bytes) -> TTLockCallback:
    """The callback in a form-encoded body; WebhookRefused (400) when it is not a TTLock records callback."""
    try:
        form = dict(parse_qsl(body.decode("utf-8"), strict_parsing=True, max_num_fields=_MAX_FORM_FIELDS))
        callback = parse_callback(form)
    except ValueError as err:  # UnicodeDecodeError and too many fields are ValueErrors too
        raise WebhookRefused(400, "malformed_payload", str(err)[:200]) from err
    if not callback.records:
        raise WebhookRefused(400, "malformed_payload", "a TTLock callback without records")
    return callback


def identity(callback: TTLockCallback) -> str:
    """What makes a callback this one: the same lock and records always give the same identity."""
    records = "|".join(f"{r.record_type}:{r.lock_date.timestamp()}:{int(r.success)}:{r.username}:{r.keyboard_pwd}"
                       for r in callback.records)
    return f"{callback.lock_id}|{records}"


def check_fresh(confirmed: list[TTLockRecord], not_before: datetime) -> None:
    """Refuse (401) records stored before ``not_before``: a replay of them could no longer be recognised.

    Judged on TTLock's own copy of the records: a callback's ``serverDate`` is a claim an attacker could refresh.
    """
    if min(r.server_date for r in confirmed) < not_before:
        raise WebhookRefused(401, "timestamp_too_old", "the callback's records are older than the replay window")


async def confirm(client: TTLockClient, lock: LockRef, callback: TTLockCallback) -> list[TTLockRecord]:
    """TTLock's own copy of every record of the callback; 403 if TTLock does not list one of them."""
    start = min(r.lock_date for r in callback.records) - _CLOCK_SLACK
    end = max(r.lock_date for r in callback.records) + _CLOCK_SLACK
    try:
        listed = await client.lock_records(lock, start, end)
    except LockError as err:
        if err.retryable:
            raise WebhookRefused(503, "vendor_unavailable", f"TTLock could not confirm the records: {err.cause}") \
                from err
        raise WebhookRefused(403, "unconfirmed_record", f"TTLock refused to list the lock's records: {err.cause}") \
            from err
    by_identity = {_identity(r): r for r in listed}
    confirmed = [by_identity.get(_identity(r)) for r in callback.records]
    if any(r is None for r in confirmed):
        raise WebhookRefused(403, "unconfirmed_record", "TTLock does not list a record of this callback")
    return [r for r in confirmed if r is not None]


def normalise(records: list[TTLockRecord]) -> tuple[VendorEvent, ...]:
    """Canonical reports of confirmed records; account names and PINs are dropped here."""
    return tuple(_event(r) for r in records)


def _event(record: TTLockRecord) -> VendorEvent:
    method = UNLOCK_METHODS.get(record.record_type)
    named = record.username if record.record_type in _NAMED_BY_CREDENTIAL else None
    return VendorEvent(
        type=VendorEventType.UNLOCKED if method else VendorEventType.UNKNOWN,
        vendor_type=f"ttlock.recordType.{record.record_type}",
        occurred_at=record.lock_date,
        battery_percent=record.electric_quantity if record.electric_quantity is not None
        and 0 <= record.electric_quantity <= 100 else None,
        credential=named if named and named.startswith(_LABEL_PREFIX) else None,
        method=method,
        success=record.success,
    )


def _identity(record: TTLockRecord) -> tuple[int, datetime, bool, str | None, str | None]:
    # What the lock did, when and with which credential; serverDate and battery may be restated by the cloud.
    return record.record_type, record.lock_date, record.success, record.username or None, record.keyboard_pwd or None


class CallbackFormat:
    """TTLock's callbacks at the ingress: unsigned (the path secret), every record confirmed with TTLock."""

    signed = False
    ack_text = ACK

    def parse(self, body: bytes) -> ParsedWebhook:
        callback = parse(body)
        return ParsedWebhook(vendor_lock_id=str(callback.lock_id), events=(), identity=identity(callback),
                             callback=callback)

    async def confirm(self, parsed: ParsedWebhook, port: LockPort, lock: LockRef,
                      not_before: datetime) -> tuple[VendorEvent, ...]:
        if not isinstance(port, TTLockClient) or not isinstance(parsed.callback, TTLockCallback):
            raise WebhookRefused(503, "vendor_account_missing", "the property's TTLock adapter cannot list records")
        records = await confirm(port, lock, parsed.callback)
        check_fresh(records, not_before)
        return normalise(records)


FORMAT = CallbackFormat()
