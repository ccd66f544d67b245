"""Salto wire rules the contract suite relies on, checked against the Salto sandbox itself: OAuth2 client
credentials, bearer challenges, ``extUserId`` uniqueness, site-time validity, Standard-Webhooks-signed callbacks, and
the journal of what the doors really applied (``GET /sandbox/journal``)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiohttp import web
from standardwebhooks.webhooks import Webhook

from adapters.salto.webhook import WebhookRejected, verify_callback
from adapters.sandbox_faults import serve_loopback
from app.domain.credential import CredentialKind, Validity
from app.domain.errors import VendorTimeout, VendorUnavailable
from tests.contract.harness import VendorHarness
from tests.contract.harness_salto import CLIENT, SALTO
from tests.contract.requests import ALL_KINDS, issue_request, stay

_KEY_PREFIXES = {CredentialKind.PASSCODE: "pin", CredentialKind.MOBILE_KEY: "mobile", CredentialKind.CARD: "card"}
OLD_SECRET = "whsec_" + base64.b64encode(b"old-secret-of-the-hotel-1").decode()
NEW_SECRET = "whsec_" + base64.b64encode(b"new-secret-of-the-hotel-1").decode()


@pytest.fixture
async def salto() -> AsyncIterator[VendorHarness]:
    async with SALTO.start() as harness:
        yield harness


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, list[tuple[bytes, dict[str, str]]]]]:
    """A callback receiver on loopback recording every body and its headers."""
    received: list[tuple[bytes, dict[str, str]]] = []

    async def callback(request: web.Request) -> web.Response:
        received.append((await request.read(), dict(request.headers)))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hooks/salto", callback)
    async with serve_loopback(app, "127.0.0.1", 0, what="test receiver") as url:
        yield f"{url}/hooks/salto", received


async def test_event_callbacks_are_signed_for_the_current_and_the_rotated_secret(
    salto: VendorHarness, receiver: tuple[str, list[tuple[bytes, dict[str, str]]]]
) -> None:
    url, received = receiver
    hook = {"url": url, "secrets": [NEW_SECRET, OLD_SECRET]}
    (await salto.admin.post("/sandbox/webhooks", json=hook)).raise_for_status()

    answer = await salto.admin.post(
        "/sandbox/accesspoints/ap-101/events", json={"type": "door.opened", "extUserId": "lis-0123456789abcdef"}
    )

    assert answer.json() == {"receiverStatus": 204}
    [(body, headers)] = received
    now = datetime.now(UTC)
    for secrets in ([NEW_SECRET], [OLD_SECRET]):
        event = verify_callback(body, headers, secrets, now)
        assert (event.type, event.access_point_id, event.ext_user_id) == (
            "door.opened",
            "ap-101",
            "lis-0123456789abcdef",
        )
    assert Webhook(NEW_SECRET).verify(body, headers)["type"] == "door.opened"  # the reference implementation agrees
    with pytest.raises(WebhookRejected, match="bad_signature"):
        verify_callback(body, headers, ["whsec_" + base64.b64encode(b"someone-else-s-secret").decode()], now)
    with pytest.raises(WebhookRejected, match="bad_signature"):
        verify_callback(body.replace(b"ap-101", b"ap-102"), headers, [NEW_SECRET], now)


async def test_a_gateway_going_offline_calls_back_access_point_offline_for_each_door(
    salto: VendorHarness, receiver: tuple[str, list[tuple[bytes, dict[str, str]]]]
) -> None:
    url, received = receiver
    (await salto.admin.post("/sandbox/webhooks", json={"url": url, "secrets": [NEW_SECRET]})).raise_for_status()

    await salto.take_gateway_offline(salto.lock(0))

    events = [verify_callback(body, headers, [NEW_SECRET], datetime.now(UTC)) for body, headers in received]
    assert sorted((e.type, e.access_point_id) for e in events) == [
        ("accessPoint.offline", "ap-101"),
        ("accessPoint.offline", "ap-102"),
    ]


async def test_the_token_endpoint_wants_client_credentials_in_http_basic(salto: VendorHarness) -> None:
    in_form = {
        "grant_type": "client_credentials",
        "client_id": CLIENT["clientId"],
        "client_secret": CLIENT["clientSecret"],
    }
    refused = await salto.admin.post("/connect/token", data=in_form)
    granted = await salto.admin.post(
        "/connect/token", data={"grant_type": "client_credentials"}, auth=(CLIENT["clientId"], CLIENT["clientSecret"])
    )

    assert (refused.status_code, refused.json()) == (401, {"error": "invalid_client"})
    assert granted.status_code == 200
    assert granted.json()["token_type"] == "Bearer"


async def _bearer(salto: VendorHarness) -> dict[str, str]:
    answer = await salto.admin.post(
        "/connect/token", data={"grant_type": "client_credentials"}, auth=(CLIENT["clientId"], CLIENT["clientSecret"])
    )
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def test_an_api_call_without_a_valid_token_gets_401_with_a_bearer_challenge(salto: VendorHarness) -> None:
    answer = await salto.admin.get("/api/v1/encoders", headers={"Authorization": "Bearer nope"})

    assert answer.status_code == httpx.codes.UNAUTHORIZED
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert answer.json()["success"] is False


async def test_users_are_unique_by_ext_user_id_and_validity_is_site_time_without_offset(salto: VendorHarness) -> None:
    headers = await _bearer(salto)
    user: dict[str, Any] = {
        "extUserId": "lis-x",
        "firstName": "Guest",
        "lastName": "lis-x",
        "userActivation": "2031-05-04T15:00:00",
        "userExpiration": "2031-05-06T11:00:00",
    }
    with_offset = user | {"extUserId": "lis-y", "userActivation": "2031-05-04T15:00:00+02:00"}

    created = await salto.admin.post("/api/v1/users", json=user, headers=headers)
    again = await salto.admin.post("/api/v1/users", json=user, headers=headers)
    offset = await salto.admin.post("/api/v1/users", json=with_offset, headers=headers)

    assert created.status_code == httpx.codes.CREATED
    assert created.json()["data"]["extUserId"] == "lis-x"
    assert again.status_code == httpx.codes.CONFLICT
    assert offset.status_code == httpx.codes.BAD_REQUEST


async def _journal(salto: VendorHarness) -> list[dict[str, Any]]:
    answer = await salto.admin.get("/sandbox/journal")
    answer.raise_for_status()
    entries: list[dict[str, Any]] = answer.json()
    return entries


def _ms(validity: Validity) -> tuple[int, int]:
    return int(validity.starts_at.timestamp() * 1000), int(validity.ends_at.timestamp() * 1000)


@ALL_KINDS
async def test_the_journal_records_the_key_a_user_gains_on_the_door_its_new_validity_and_its_revoke(
    salto: VendorHarness, kind: CredentialKind
) -> None:
    lock = salto.lock(0)
    request = issue_request(salto, kind, lock)
    issued = await salto.port.issue(request)
    [user] = (await salto.admin.get(salto.credentials_path(lock))).json()
    extended = stay(nights=3)
    await salto.port.update_validity(lock, issued.vendor_ref, extended)
    await salto.port.revoke(lock, issued.vendor_ref)

    entries = await _journal(salto)

    assert [(e["seq"], e["op"]) for e in entries] == [(1, "issue"), (2, "update"), (3, "revoke")]
    secret = user["cardSerial"] if kind is CredentialKind.CARD else request.secret
    for entry, window in zip(entries, [request.validity, extended, extended], strict=True):
        assert (entry["lock"], entry["credential"], entry["kind"], entry["label"], entry["secret"]) == (
            "ap-101", f"{_KEY_PREFIXES[kind]}:{user['id']}", kind.value, request.label, secret
        )
        assert (entry["validFrom"], entry["validUntil"]) == _ms(window)  # Berlin wall clock, back in UTC


async def test_an_access_right_refused_by_an_offline_gateway_writes_nothing(salto: VendorHarness) -> None:
    lock = salto.lock(0)
    await salto.take_gateway_offline(lock)

    with pytest.raises(VendorUnavailable):
        await salto.port.issue(issue_request(salto, CredentialKind.PASSCODE, lock))

    assert await _journal(salto) == []  # the user and its PIN exist, but no door opens for them


async def test_a_duplicate_delivery_of_an_encoding_journals_both_cards(salto: VendorHarness) -> None:
    lock = salto.lock(0)
    await salto.inject("duplicate_delivery", count=1, only="POST /api/v1/encoders/{encoder_id}/encode")

    request = issue_request(salto, CredentialKind.CARD, lock)
    await salto.port.issue(request)

    entries = await _journal(salto)
    [user] = (await salto.admin.get(salto.credentials_path(lock))).json()
    assert [(e["op"], e["kind"], e["label"]) for e in entries] == [("issue", "card", request.label)] * 2
    first, second = (e["secret"] for e in entries)
    assert first != second == user["cardSerial"]  # the second card replaced the first


async def test_an_access_right_executed_then_timed_out_is_journaled_once(salto: VendorHarness) -> None:
    lock, port = salto.lock(0), salto.make_port(timeout_s=0.2)
    await salto.inject(
        "executed_then_timeout", count=1, latency_ms=1000, only="POST /api/v1/users/{id}/accessrights"
    )

    with pytest.raises(VendorTimeout):
        await port.issue(issue_request(salto, CredentialKind.PASSCODE, lock))

    assert [(e["op"], e["lock"]) for e in await _journal(salto)] == [("issue", "ap-101")]
