"""Salto's pure parts: site wall-clock times across DST, vendor refs, request bodies, the HTTP status table,
Retry-After, and Standard Webhooks signing with the published test vector."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook

from adapters.salto import errors, mapping, webhook
from app.domain.credential import CredentialKind, IssueRequest, LockRef, Validity
from app.domain.errors import (
    CredentialNotFound,
    DuplicateCredential,
    GatewayBusy,
    InvalidRequest,
    RateLimited,
    Unauthorized,
    Unsupported,
    VendorUnavailable,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("moment", "site", "wire"),
    [
        (datetime(2031, 3, 28, 15, 0, 17, tzinfo=BERLIN), BERLIN, "2031-03-28T15:00:17"),
        (datetime(2031, 4, 2, 9, 0, 43, tzinfo=UTC), BERLIN, "2031-04-02T11:00:43"),  # summer time: +02:00
        (datetime(2031, 1, 2, 9, 0, 0, tzinfo=UTC), BERLIN, "2031-01-02T10:00:00"),  # winter time: +01:00
        (datetime(2031, 7, 1, 12, 0, 0, tzinfo=UTC), NEW_YORK, "2031-07-01T08:00:00"),
    ],
)
def test_salto_times_are_the_sites_wall_clock_without_offset(moment: datetime, site: ZoneInfo, wire: str) -> None:
    assert mapping.to_site_time(moment, site) == wire
    assert mapping.from_site_time(wire, site) == moment


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 1, 1), timezones=st.just(UTC)))
def test_site_time_round_trips_every_instant_outside_the_repeated_autumn_hour(moment: datetime) -> None:
    moment = moment.replace(microsecond=0)
    back = mapping.from_site_time(mapping.to_site_time(moment, BERLIN), BERLIN)
    if moment.astimezone(BERLIN).fold == 0:
        # Compared in UTC: Python never finds an ambiguous local time (the first 02:00 of that night, say) equal to
        # an instant of another zone (PEP 495), even when it is that instant.
        assert back.astimezone(UTC) == moment
    else:  # the second 02:xx of the night summer time ends: Salto's format cannot say which, the first is taken
        assert moment - back == timedelta(hours=1)


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        mapping.to_site_time(datetime(2031, 1, 1), BERLIN)


@pytest.mark.parametrize("text", ["2031-05-04T15:00:00+02:00", "2031-05-04 15:00:00", "2031-05-04T15:00", "x"])
def test_site_times_in_another_format_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"does not match|unconverted"):
        mapping.from_site_time(text, BERLIN)


@pytest.mark.parametrize(
    ("user", "kind"),
    [
        ({"hasPinCode": True}, CredentialKind.PASSCODE),
        ({"mobileKeyStatus": "Assigned"}, CredentialKind.MOBILE_KEY),
        ({"mobileKeyStatus": "Cancelled"}, None),
        ({"cardSerial": "5A170001"}, CredentialKind.CARD),
        ({}, None),
    ],
)
def test_the_key_a_salto_user_carries_decides_its_kind(user: dict[str, Any], kind: CredentialKind | None) -> None:
    assert mapping.kind_of(user) is kind


def test_a_listed_user_becomes_a_canonical_credential_in_site_time() -> None:
    user = {
        "id": "3f2a-1",
        "extUserId": "lis-ab",
        "hasPinCode": True,
        "userActivation": "2031-03-28T15:00:17",
        "userExpiration": "2031-04-02T11:00:43",
    }

    credential = mapping.credential_from_user(user, BERLIN)

    assert credential is not None
    assert (credential.vendor_ref, credential.kind, credential.label) == (
        "pin:3f2a-1",
        CredentialKind.PASSCODE,
        "lis-ab",
    )
    assert credential.validity == Validity(
        starts_at=datetime(2031, 3, 28, 14, 0, 17, tzinfo=UTC), ends_at=datetime(2031, 4, 2, 9, 0, 43, tzinfo=UTC)
    )
    assert mapping.credential_from_user({**user, "hasPinCode": False}, BERLIN) is None


@pytest.mark.parametrize("ref", ["pin", "pin:", "ekey:1", "card:a b", "mobile:" + "x" * 65])
def test_only_refs_made_by_encode_ref_decode(ref: str) -> None:
    assert mapping.decode_ref(mapping.encode_ref(CredentialKind.MOBILE_KEY, "u-1")) == (
        CredentialKind.MOBILE_KEY,
        "u-1",
    )
    with pytest.raises(ValueError, match="Salto"):
        mapping.decode_ref(ref)


@pytest.mark.parametrize("pin", [None, "", "123", "123456789", "12a4", " 1234"])
def test_salto_pins_are_4_to_8_digits(pin: str | None) -> None:
    assert mapping.check_pin("12345678") == "12345678"
    with pytest.raises(ValueError, match="4 to 8"):
        mapping.check_pin(pin)


def test_a_mobile_key_user_carries_the_guests_phone_and_no_name() -> None:
    lock = LockRef(tenant="t", region="eu", property="p", lock_id="d", vendor="salto", vendor_lock_id="ap-1")
    stay = Validity(starts_at=datetime(2031, 5, 4, 15, tzinfo=BERLIN), ends_at=datetime(2031, 5, 6, 11, tzinfo=BERLIN))
    request = IssueRequest(lock=lock, kind=CredentialKind.MOBILE_KEY, validity=stay, label="lis-1", secret="+4915100")

    body = mapping.user_body(request, BERLIN)

    assert body == {
        "extUserId": "lis-1",
        "firstName": "Guest",
        "lastName": "lis-1",
        "phoneNumber": "+4915100",
        "mobileAppType": "JustIN Mobile",
        "userActivation": "2031-05-04T15:00:00",
        "userExpiration": "2031-05-06T11:00:00",
    }
    with pytest.raises(ValueError, match="phone"):
        mapping.user_body(request.model_copy(update={"secret": "guest42"}), BERLIN)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, InvalidRequest),
        (401, Unauthorized),
        (403, Unauthorized),
        (404, CredentialNotFound),
        (409, DuplicateCredential),
        (423, GatewayBusy),
        (429, RateLimited),
        (501, Unsupported),
        (500, VendorUnavailable),
        (502, VendorUnavailable),
        (503, VendorUnavailable),
        (418, VendorUnavailable),
    ],
)
def test_salto_statuses_map_to_the_canonical_tree(status: int, expected: type[Exception]) -> None:
    error = errors.from_status(status, "message", retry_after=2.0)
    assert type(error) is expected
    assert error.vendor_code == f"http_{status}"
    if isinstance(error, RateLimited):
        assert error.retry_after == 2.0


NOW = datetime(2031, 5, 4, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        ("0", 0.0),
        ("Sun, 04 May 2031 12:00:30 GMT", 30.0),
        ("Sun, 04 May 2031 11:00:00 GMT", 0.0),
        (None, None),
        ("", None),
        ("soon", None),
        ("-3", None),
    ],
)
def test_retry_after_is_read_as_seconds_or_an_http_date(header: str | None, seconds: float | None) -> None:
    assert errors.parse_retry_after(header, NOW) == seconds


VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_HEADERS = {"webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1614265330"}
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_sandbox_signs_like_the_standard_webhooks_test_vector() -> None:
    headers = webhook.signed_headers([VECTOR_SECRET], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, VECTOR_BODY)

    assert headers == VECTOR_HEADERS | {"webhook-signature": VECTOR_SIGNATURE}
    reference = Webhook(VECTOR_SECRET).sign(
        "msg_p5jXN8AQM9LWM0D4loKWxJek", datetime.fromtimestamp(1614265330, UTC), VECTOR_BODY.decode()
    )
    assert reference == VECTOR_SIGNATURE


def _event(**changes: Any) -> bytes:
    event = {
        "id": "evt_1",
        "type": "door.opened",
        "occurredAt": "2031-05-04T12:00:00Z",
        "accessPointId": "ap-101",
        "extUserId": "lis-1",
    } | changes
    return webhook.SaltoEvent.model_validate(event).model_dump_json(by_alias=True).encode()


SECRET = "whsec_" + base64.b64encode(b"a-secret-of-the-hotel").decode()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"webhook-timestamp": str(int(NOW.timestamp()) - 301)}, "timestamp_too_old"),
        ({"webhook-timestamp": str(int(NOW.timestamp()) + 301)}, "timestamp_too_new"),
        ({"webhook-signature": "v2,abc"}, "malformed_signature"),
        ({"webhook-id": ""}, "missing_signature_headers"),
        ({"webhook-id": "msg_other"}, "bad_signature"),
    ],
)
def test_a_callback_outside_five_minutes_or_with_a_wrong_signature_is_rejected(
    change: dict[str, str], reason: str
) -> None:
    body = _event()
    headers = webhook.signed_headers([SECRET], "msg_1", int(NOW.timestamp()), body)
    assert webhook.verify_callback(body, headers, [SECRET], NOW).ext_user_id == "lis-1"

    with pytest.raises(webhook.WebhookRejected, match=reason):
        webhook.verify_callback(body, headers | change, [SECRET], NOW)


def test_an_authentic_callback_that_is_not_a_salto_event_is_rejected() -> None:
    body = b'{"id": "evt_1", "type": "door.exploded"}'
    headers = webhook.signed_headers([SECRET], "msg_1", int(NOW.timestamp()), body)

    with pytest.raises(webhook.WebhookRejected, match="occurredAt"):
        webhook.verify_callback(body, headers, [SECRET], NOW)


def test_a_salto_event_type_we_do_not_know_yet_is_read_as_unknown_with_its_name_kept() -> None:
    (event,) = webhook.salto_event(_event(type="door.leftOpen")).events
    assert (event.type, event.vendor_type) == ("unknown", "salto.door.leftOpen")
