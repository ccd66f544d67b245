"""Normalisation of vendor callbacks at the ingress, and its per-tenant rate limit; pure, no I/O."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from pydantic import SecretStr

from adapters.registry import INSTALLED
from adapters.standard_webhooks import GENERIC
from adapters.ttlock import callbacks as ttlock
from adapters.ttlock.mapping import to_ms
from adapters.vendor_spec import WebhookRefused
from app.domain.lock_status import VendorEventType
from app.ingress import standard
from app.ingress.guards import Refusal, TenantRateLimit
from app.security.envelope import LocalKeyStore
from app.security.webhook_signature import EndpointSecrets

NOW = datetime(2026, 12, 1, 10, tzinfo=UTC)


def ttlock_body(*records: dict[str, object], lock_id: int = 70001) -> bytes:
    return urlencode({"notifyType": "1", "lockId": str(lock_id), "lockMac": "00:00:00:01:11:71", "admin": "hotel",
                      "records": json.dumps(list(records))}).encode()


def record(record_type: int, minute: int = 0, **fields: object) -> dict[str, object]:
    at = to_ms(NOW + timedelta(minutes=minute))
    return {"recordType": record_type, "success": 1, "username": "", "keyboardPwd": "", "lockDate": at,
            "serverDate": at, "electricQuantity": 80, **fields}


def refusal_of(call: object, *args: object) -> Refusal | WebhookRefused:
    with pytest.raises((Refusal, WebhookRefused)) as refused:
        call(*args)  # type: ignore[operator]
    return refused.value


def webhook_id(keys: LocalKeyStore, tenant: str, callback: ttlock.TTLockCallback) -> str:
    return standard.unsigned_webhook_id(keys, tenant, "ttlock", ttlock.identity(callback))


def test_a_passcode_unlock_confirms_our_credential_by_label_and_drops_the_pin() -> None:
    callback = ttlock.parse(ttlock_body(record(4, username="lis-0123456789abcdef", keyboardPwd="483920")))
    (event,) = ttlock.normalise(callback.records)
    assert (event.type, event.method, event.credential) == (VendorEventType.UNLOCKED, "passcode",
                                                            "lis-0123456789abcdef")
    assert "483920" not in event.model_dump_json()


def test_an_app_unlock_never_carries_the_guests_account_name() -> None:
    callback = ttlock.parse(ttlock_body(record(1, username="guest@example.com")))
    (event,) = ttlock.normalise(callback.records)
    assert event.method == "app"
    assert "guest@example.com" not in event.model_dump_json()


def test_an_unknown_record_type_is_passed_on_as_unknown_with_the_vendors_name_and_battery() -> None:
    (event,) = ttlock.normalise(ttlock.parse(ttlock_body(record(44, electricQuantity=12))).records)
    assert (event.type, event.vendor_type, event.battery_percent) == (VendorEventType.UNKNOWN,
                                                                      "ttlock.recordType.44", 12)


def test_a_callback_has_the_same_id_whenever_it_is_sent_and_another_for_other_records() -> None:
    keys = LocalKeyStore(b"k" * 32)
    first = webhook_id(keys, "t1", ttlock.parse(ttlock_body(record(4), record(7, 1))))
    again = webhook_id(keys, "t1", ttlock.parse(ttlock_body(record(4), record(7, 1))))
    other = webhook_id(keys, "t1", ttlock.parse(ttlock_body(record(4), record(7, 2))))
    assert first == again != other


def test_a_callback_id_is_keyed_so_the_passcode_in_its_records_cannot_be_found_by_trying_every_pin() -> None:
    callback = ttlock.parse(ttlock_body(record(4, keyboardPwd="482913")))
    keyed = webhook_id(LocalKeyStore(b"k" * 32), "t1", callback)
    assert keyed != webhook_id(LocalKeyStore(b"x" * 32), "t1", callback), "another key, another id"
    assert keyed != webhook_id(LocalKeyStore(b"k" * 32), "t2", callback), "another tenant, another id"
    (r,) = callback.records
    unkeyed = hashlib.sha256(f"{callback.lock_id}|{r.record_type}:{r.lock_date.timestamp()}:{int(r.success)}:"
                             f"{r.username}:482913".encode()).hexdigest()[:40]
    assert keyed != f"ttlock-{unkeyed}", "the old plain hash, which a million guesses would have matched"


@pytest.mark.parametrize(
    "body",
    [b"notifyType=1&lockId=1", b"\xff\xfe", b"a=1&" * 40, ttlock_body(record(4))[:-20], ttlock_body(),
     urlencode({"notifyType": "2", "lockId": "1", "lockMac": "m", "admin": "a", "records": "[]"}).encode()],
    ids=["missing-fields", "not-utf8", "too-many-fields", "truncated-records", "no-records",
         "not-a-records-callback"],
)
def test_a_body_that_is_not_a_ttlock_records_callback_is_refused_as_malformed(body: bytes) -> None:
    refused = refusal_of(ttlock.parse, body)
    assert (refused.status, refused.reason) == (400, "malformed_payload")


def test_the_ttlock_path_secret_must_match_exactly() -> None:
    secrets = EndpointSecrets(path_secret=SecretStr("s3cret-path"))
    standard.authenticate_path(secrets, "s3cret-path")
    for offered in ("s3cret-patH", "", None):
        assert refusal_of(standard.authenticate_path, secrets, offered).reason == "bad_path_secret"
    assert refusal_of(standard.authenticate_path, EndpointSecrets(), "anything").status == 401


def test_records_ttlock_stored_before_the_replay_window_are_refused() -> None:
    old = ttlock.parse(ttlock_body(record(4, minute=-25 * 60))).records
    refused = refusal_of(ttlock.check_fresh, old, NOW - timedelta(hours=24))
    assert (refused.status, refused.reason) == (401, "timestamp_too_old")
    ttlock.check_fresh(ttlock.parse(ttlock_body(record(4, minute=-60))).records, NOW - timedelta(hours=24))


@pytest.mark.parametrize(
    ("vendor", "payload", "expected"),
    [
        ("generic", {"type": "lock.offline", "timestamp": "2026-12-01T10:00:00Z", "data": {"lock_id": "L1"}},
         ("L1", VendorEventType.LOCK_OFFLINE, None, True)),
        ("generic", {"type": "lock.battery", "timestamp": "2026-12-01T10:00:00Z",
                     "data": {"lock_id": "L1", "battery_percent": 9}}, ("L1", VendorEventType.BATTERY, None, True)),
        ("generic", {"type": "lock.jammed", "timestamp": "2026-12-01T10:00:00Z", "data": {"lock_id": "L1"}},
         ("L1", VendorEventType.UNKNOWN, None, True)),
        ("salto", {"id": "e1", "type": "door.opened", "occurredAt": "2026-12-01T10:00:00Z", "accessPointId": "AP7",
                   "extUserId": "lis-00aa"}, ("AP7", VendorEventType.UNLOCKED, "lis-00aa", True)),
        ("salto", {"id": "e2", "type": "door.denied", "occurredAt": "2026-12-01T10:00:00Z", "accessPointId": "AP7"},
         ("AP7", VendorEventType.UNLOCKED, None, False)),
        ("salto", {"id": "e3", "type": "door.leftOpen", "occurredAt": "2026-12-01T10:00:00Z",
                   "accessPointId": "AP7"}, ("AP7", VendorEventType.UNKNOWN, None, True)),
    ],
    ids=["generic-offline", "generic-battery", "generic-unknown", "salto-opened", "salto-denied", "salto-unknown"],
)
def test_standard_webhook_events_normalise_to_canonical_reports(vendor: str, payload: dict[str, object],
                                                                 expected: tuple[object, ...]) -> None:
    webhooks = GENERIC if vendor == "generic" else INSTALLED.spec(vendor).webhooks
    assert webhooks is not None
    parsed = webhooks.parse(json.dumps(payload).encode())
    (event,) = parsed.events
    assert (parsed.vendor_lock_id, event.type, event.credential, event.success) == expected


@pytest.mark.parametrize("body", [b"", b"[]", b'{"type": "lock.offline"}', b'{"type": "x", "timestamp": '
                                  b'"2026-12-01T10:00:00", "data": {"lock_id": "L"}}', b"\xff"],
                         ids=["empty", "not-an-object", "no-data", "naive-timestamp", "not-utf8"])
def test_a_verified_body_that_is_not_an_event_is_refused_as_malformed(body: bytes) -> None:
    refused = refusal_of(GENERIC.parse, body)
    assert (refused.status, refused.reason) == (400, "malformed_payload")


def test_each_tenant_has_its_own_bucket_refilled_at_the_rate() -> None:
    limit = TenantRateLimit(rate=2.0, burst=3.0)
    for _ in range(3):
        limit.check("t1", now=100.0)
    refused = refusal_of(limit.check, "t1", 100.0)
    assert (refused.status, refused.reason) == (429, "rate_limited")
    assert refused.retry_after == pytest.approx(0.5)
    limit.check("t2", now=100.0)  # another tenant is not affected
    limit.check("t1", now=100.5)  # half a second at 2/s buys one more
