"""TTLock's pure mapping: times, vendor references, list records, errcode translation and callback parsing."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.ttlock import errors, mapping, webhook
from app.domain.credential import CredentialKind, IssuedCredential, Validity
from app.domain.errors import (
    CredentialNotFound,
    DuplicateCredential,
    GatewayBusy,
    GatewayOffline,
    InvalidRequest,
    LockError,
    RateLimited,
    Unauthorized,
    Unsupported,
    VendorTimeout,
    VendorUnavailable,
)

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("moment", "ms"),
    [
        (datetime(1970, 1, 1, tzinfo=UTC), 0),
        (datetime(2031, 3, 28, 15, 0, 17, tzinfo=BERLIN), 1932472817000),
        (datetime(2031, 3, 28, 14, 0, 17, tzinfo=UTC), 1932472817000),
        (datetime(2031, 3, 28, 19, 30, 17, 999999, tzinfo=timezone(timedelta(hours=5, minutes=30))), 1932472817999),
    ],
)
def test_to_ms_counts_milliseconds_of_the_instant_whatever_the_zone(moment: datetime, ms: int) -> None:
    assert mapping.to_ms(moment) == ms


def test_to_ms_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="aware"):
        mapping.to_ms(datetime(2031, 1, 1, 12, 0))


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)))
def test_ms_round_trip_keeps_the_instant_to_the_millisecond(moment: datetime) -> None:
    back = mapping.from_ms(mapping.to_ms(moment))
    assert back.tzinfo is UTC
    assert back == moment.replace(microsecond=moment.microsecond // 1000 * 1000)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (
            1932472817000,
            1932904800000,
            Validity(starts_at=mapping.from_ms(1932472817000), ends_at=mapping.from_ms(1932904800000)),
        ),
        (0, 0, None),  # permanent passcode
        (None, None, None),
        (1932472817000, 0, None),
        (1932904800000, 1932472817000, None),  # inverted window: not a validity TTLock could honour
        (
            "1932472817000",
            "1932904800000",
            Validity(starts_at=mapping.from_ms(1932472817000), ends_at=mapping.from_ms(1932904800000)),
        ),
    ],
)
def test_validity_from_wire(start: object, end: object, expected: Validity | None) -> None:
    assert mapping.validity_from_wire(start, end) == expected


@pytest.mark.parametrize(
    ("kind", "vendor_id", "ref"),
    [
        (CredentialKind.PASSCODE, 123, "passcode:123"),
        (CredentialKind.MOBILE_KEY, 45, "ekey:45"),
        (CredentialKind.CARD, 67, "card:67"),
    ],
)
def test_vendor_ref_names_the_ttlock_object_family(kind: CredentialKind, vendor_id: int, ref: str) -> None:
    assert mapping.encode_ref(kind, vendor_id) == ref
    assert mapping.decode_ref(ref) == (kind, vendor_id)


@pytest.mark.parametrize("ref", ["", "123", "passcode:", "passcode:abc", "pin:12", "ekey:-4", "card:1:2", "salto:7"])
def test_a_vendor_ref_not_made_by_the_adapter_is_refused(ref: str) -> None:
    with pytest.raises(ValueError, match="vendor_ref"):
        mapping.decode_ref(ref)


@pytest.mark.parametrize(
    ("secret", "ok"),
    [
        ("1234", True),
        ("123456789", True),
        ("0000", True),
        (None, False),
        ("123", False),
        ("1234567890", False),
        ("12a4", False),
        ("١٢٣٤", False),
    ],
)
def test_check_pin_accepts_4_to_9_ascii_digits_only(secret: str | None, ok: bool) -> None:
    if ok:
        assert mapping.check_pin(secret) == secret
    else:
        with pytest.raises(ValueError, match="4 to 9 digits"):
            mapping.check_pin(secret)


@pytest.mark.parametrize(("raw", "ok"), [("70001", True), ("", False), ("lock-1", False), ("-5", False)])
def test_lock_id_of_requires_an_integer_lock_id(raw: str, ok: bool) -> None:
    if ok:
        assert mapping.lock_id_of(raw) == int(raw)
    else:
        with pytest.raises(ValueError, match="integers"):
            mapping.lock_id_of(raw)


@pytest.mark.parametrize(
    ("convert", "record", "ref", "kind", "label"),
    [
        (
            mapping.passcode_from_record,
            {"keyboardPwdId": 3234293, "keyboardPwdName": "lis-ab", "keyboardPwdType": "3"},
            "passcode:3234293",
            CredentialKind.PASSCODE,
            "lis-ab",
        ),
        (
            mapping.ekey_from_record,
            {"keyId": 45, "keyName": "lis-cd", "username": "guest"},
            "ekey:45",
            CredentialKind.MOBILE_KEY,
            "lis-cd",
        ),
        (
            mapping.card_from_record,
            {"cardId": 67, "cardName": "lis-ef", "cardNumber": "998877"},
            "card:67",
            CredentialKind.CARD,
            "lis-ef",
        ),
        (
            mapping.passcode_from_record,
            {"keyboardPwdId": 1, "keyboardPwdName": None},
            "passcode:1",
            CredentialKind.PASSCODE,
            "",
        ),
    ],
)
def test_list_records_become_issued_credentials(
    convert: Callable[[dict[str, Any]], IssuedCredential],
    record: dict[str, Any],
    ref: str,
    kind: CredentialKind,
    label: str,
) -> None:
    window = {"startDate": 1932472817000, "endDate": 1932904800000}
    issued = convert(record | window)
    assert (issued.vendor_ref, issued.kind, issued.label) == (ref, kind, label)
    assert issued.validity == mapping.validity_from_wire(window["startDate"], window["endDate"])
    assert issued.validity is not None
    assert issued.validity.starts_at.astimezone(BERLIN).isoformat() == "2031-03-28T15:00:17+01:00"


ERRCODE_TABLE: list[tuple[int, type[LockError]]] = [
    (10003, Unauthorized),
    (10004, Unauthorized),
    (20002, Unauthorized),
    (-2018, Unauthorized),
    (10007, Unauthorized),
    (30006, RateLimited),
    (-3003, GatewayBusy),
    (-3002, GatewayOffline),  # the cloud answered: an offline passcode is the way in meanwhile
    (-2012, GatewayOffline),
    (-3036, GatewayOffline),
    (-1003, CredentialNotFound),
    (-2009, CredentialNotFound),
    (-1008, CredentialNotFound),
    (-1021, CredentialNotFound),
    (-4043, Unsupported),
    (-3007, DuplicateCredential),
    (-3009, InvalidRequest),
    (-3006, InvalidRequest),
    (80000, InvalidRequest),
    (90000, VendorUnavailable),
    (-99999, VendorUnavailable),  # unknown codes are retried a bounded number of times, not dropped
]


@pytest.mark.parametrize(("errcode", "expected"), ERRCODE_TABLE)
def test_translate_maps_each_errcode_to_one_canonical_error(errcode: int, expected: type[LockError]) -> None:
    error = errors.translate(errcode, "vendor text")
    assert type(error) is expected
    assert error.vendor_code == str(errcode)
    assert "vendor text" in str(error)


def test_clock_skew_errcode_tells_the_operator_to_check_the_clock() -> None:
    assert "clock" in str(errors.translate(80000, "date must be current time, in 5 minutes"))


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (502, VendorUnavailable),
        (503, VendorUnavailable),
        (500, VendorUnavailable),
        (404, VendorUnavailable),
        (429, RateLimited),
        (401, Unauthorized),
    ],
)
def test_http_status_translation(status: int, expected: type[LockError]) -> None:
    error = errors.from_http_status(status)
    assert type(error) is expected
    assert error.vendor_code == f"http_{status}"


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (httpx.ReadTimeout("slow"), VendorTimeout),
        (httpx.ConnectTimeout("slow"), VendorTimeout),
        (httpx.PoolTimeout("slow"), VendorTimeout),
        (httpx.ConnectError("refused"), VendorUnavailable),
        (httpx.RemoteProtocolError("closed"), VendorUnavailable),
    ],
)
def test_transport_failures_translate_to_timeout_or_unavailable(
    failure: httpx.HTTPError, expected: type[LockError]
) -> None:
    assert type(errors.from_transport(failure)) is expected


def test_a_malformed_body_is_vendor_unavailable() -> None:
    error = errors.malformed_body("'<html>'")
    assert isinstance(error, VendorUnavailable)
    assert error.retryable


RECORD = {
    "recordType": 4,
    "success": 1,
    "username": "guest",
    "keyboardPwd": "482913",
    "lockDate": 1932472817000,
    "serverDate": 1932472818000,
    "electricQuantity": 87,
}


def callback_form(**changes: str) -> dict[str, str]:
    form = {
        "notifyType": "1",
        "lockId": "70001",
        "lockMac": "00:00:00:01:11:71",
        "admin": "hotel_admin",
        "records": json.dumps([RECORD]),
    }
    return form | changes


def test_a_valid_callback_parses_into_records_with_utc_times() -> None:
    callback = webhook.parse_callback(callback_form())

    assert (callback.lock_id, callback.lock_mac, callback.admin) == (70001, "00:00:00:01:11:71", "hotel_admin")
    [record] = callback.records
    assert (record.record_type, record.success, record.username, record.keyboard_pwd) == (4, True, "guest", "482913")
    assert record.lock_date == datetime(2031, 3, 28, 14, 0, 17, tzinfo=UTC)
    assert record.server_date - record.lock_date == timedelta(seconds=1)
    assert record.electric_quantity == 87


def test_a_callback_record_without_battery_or_user_still_parses() -> None:
    bare = {
        "recordType": 1,
        "success": 0,
        "lockDate": "1932472817000",
        "serverDate": 1932472817000,
        "electricQuantity": -1,
    }
    [record] = webhook.parse_callback(callback_form(records=json.dumps([bare]))).records
    assert (record.success, record.username, record.electric_quantity) == (False, None, None)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"records": ""}, "lacks records"),
        ({"lockId": ""}, "lacks lockId"),
        ({"notifyType": "2"}, "notifyType"),
        ({"records": "[{"}, "not JSON"),
        ({"records": json.dumps(RECORD)}, "must be a JSON list"),
        ({"lockId": "lock-1"}, "lockId"),
        ({"records": json.dumps([RECORD | {"lockDate": "yesterday"}])}, "lockDate"),
        ({"records": json.dumps([RECORD | {"success": 2}])}, "success"),
        ({"records": json.dumps([{k: v for k, v in RECORD.items() if k != "recordType"}])}, "recordType"),
    ],
)
def test_a_malformed_callback_is_refused_with_its_reason(changes: dict[str, str], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        webhook.parse_callback(callback_form(**changes))


def test_the_callback_answer_is_the_plain_word_success() -> None:
    assert webhook.ACK == "success"
