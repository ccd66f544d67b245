"""TTLock wire rules the contract suite relies on, checked against the TTLock sandbox itself."""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.contract.harness import VendorHarness
from tests.contract.harness_ttlock import ACCOUNT, TTLOCK


@pytest.fixture
async def ttlock() -> AsyncIterator[VendorHarness]:
    async with TTLOCK.start() as harness:
        yield harness


async def test_ttlock_sandbox_keeps_a_bluetooth_type_passcode_in_the_cloud_only(ttlock: VendorHarness) -> None:
    lock = ttlock.lock(0)
    wire, account = ttlock.admin, ACCOUNT
    password = hashlib.md5(account["password"].encode(), usedforsecurity=False).hexdigest()
    login = {"clientId": account["clientId"], "clientSecret": account["clientSecret"], "username": account["username"]}
    token = (await wire.post("/oauth2/token", data=login | {"password": password})).json()["access_token"]
    add = {
        "clientId": account["clientId"],
        "accessToken": token,
        "date": str(int(time.time() * 1000)),
        "lockId": lock.vendor_lock_id,
        "keyboardPwd": "482913",
        "keyboardPwdName": "bt-only",
        "keyboardPwdType": "3",
        "startDate": "1900000000000",
        "endDate": "1900086400000",
        "addType": "1",  # bluetooth: the app would have to be next to the lock
    }
    answer = await wire.post("/v3/keyboardPwd/add", data=add)

    assert "keyboardPwdId" in answer.json()
    assert await ttlock.sandbox_credentials(lock) == []
    [cloud_only] = await ttlock.sandbox_credentials(lock, include_cloud_only=True)
    assert (cloud_only.label, cloud_only.on_lock) == ("bt-only", False)


async def test_sandbox_answers_http_200_json_errcodes_to_unauthenticated_calls(ttlock: VendorHarness) -> None:
    answer = await ttlock.admin.post(
        "/v3/lock/detail",
        data={"clientId": ACCOUNT["clientId"], "accessToken": "nope", "date": str(int(time.time() * 1000))},
    )

    assert answer.status_code == httpx.codes.OK
    assert answer.json()["errcode"] == 10003
