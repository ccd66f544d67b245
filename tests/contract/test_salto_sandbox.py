"""Salto wire rules the contract suite relies on, checked against the Salto sandbox itself: OAuth2 client
credentials, bearer challenges, ``extUserId`` uniqueness, site-time validity and Standard-Webhooks-signed callbacks."""

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
from tests.contract.harness import VendorHarness
from tests.contract.harness_salto import CLIENT, SALTO

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
