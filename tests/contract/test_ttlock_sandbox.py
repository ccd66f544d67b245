"""TTLock wire rules the contract suite relies on, checked against the TTLock sandbox itself, and the sandbox's
journal of what the locks really applied (``GET /sandbox/journal``)."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.domain.credential import CredentialKind, Validity
from app.domain.errors import RateLimited, VendorTimeout, VendorUnavailable
from tests.contract.harness import VendorHarness
from tests.contract.harness_ttlock import ACCOUNT, TTLOCK
from tests.contract.requests import ALL_KINDS, issue_request, stay


@pytest.fixture
async def ttlock() -> AsyncIterator[VendorHarness]:
    async with TTLOCK.start() as harness:
        yield harness


async def _wire(ttlock: VendorHarness, path: str, **params: str) -> dict[str, Any]:
    """One TTLock API call on the wire, as a client other than the adapter would make it."""
    password = hashlib.md5(ACCOUNT["password"].encode(), usedforsecurity=False).hexdigest()
    login = {"clientId": ACCOUNT["clientId"], "clientSecret": ACCOUNT["clientSecret"], "username": ACCOUNT["username"]}
    token = (await ttlock.admin.post("/oauth2/token", data=login | {"password": password})).json()["access_token"]
    signed = {"clientId": ACCOUNT["clientId"], "accessToken": token, "date": str(int(time.time() * 1000))}
    answer: dict[str, Any] = (await ttlock.admin.post(path, data=signed | params)).json()
    return answer


async def _journal(ttlock: VendorHarness) -> list[dict[str, Any]]:
    answer = await ttlock.admin.get("/sandbox/journal")
    answer.raise_for_status()
    entries: list[dict[str, Any]] = answer.json()
    return entries


def _ms(validity: Validity) -> tuple[int, int]:
    return int(validity.starts_at.timestamp() * 1000), int(validity.ends_at.timestamp() * 1000)


async def test_ttlock_sandbox_keeps_a_bluetooth_type_passcode_in_the_cloud_only(ttlock: VendorHarness) -> None:
    lock = ttlock.lock(0)
    add = {
        "lockId": lock.vendor_lock_id,
        "keyboardPwd": "482913",
        "keyboardPwdName": "bt-only",
        "keyboardPwdType": "3",
        "startDate": "1900000000000",
        "endDate": "1900086400000",
        "addType": "1",  # bluetooth: the app would have to be next to the lock
    }
    answer = await _wire(ttlock, "/v3/keyboardPwd/add", **add)

    assert "keyboardPwdId" in answer
    assert await ttlock.sandbox_credentials(lock) == []
    assert await _journal(ttlock) == []  # not on the door: nothing was applied there
    [cloud_only] = await ttlock.sandbox_credentials(lock, include_cloud_only=True)
    assert (cloud_only.label, cloud_only.on_lock) == ("bt-only", False)


async def test_sandbox_answers_http_200_json_errcodes_to_unauthenticated_calls(ttlock: VendorHarness) -> None:
    answer = await ttlock.admin.post(
        "/v3/lock/detail",
        data={"clientId": ACCOUNT["clientId"], "accessToken": "nope", "date": str(int(time.time() * 1000))},
    )

    assert answer.status_code == httpx.codes.OK
    assert answer.json()["errcode"] == 10003


@ALL_KINDS
async def test_the_journal_records_issue_update_and_revoke_as_the_lock_applied_them(
    ttlock: VendorHarness, kind: CredentialKind
) -> None:
    lock, started = ttlock.lock(0), time.time()
    request = issue_request(ttlock, kind, lock)
    issued = await ttlock.port.issue(request)
    [held] = (await ttlock.admin.get(ttlock.credentials_path(lock))).json()
    extended = stay(nights=3)
    await ttlock.port.update_validity(lock, issued.vendor_ref, extended)
    await ttlock.port.revoke(lock, issued.vendor_ref)

    entries = await _journal(ttlock)

    assert [(e["seq"], e["op"]) for e in entries] == [(1, "issue"), (2, "update"), (3, "revoke")]
    for entry, window in zip(entries, [request.validity, extended, extended], strict=True):
        assert (entry["lock"], entry["credential"], entry["kind"], entry["label"], entry["secret"]) == (
            lock.vendor_lock_id, str(held["id"]), kind.value, request.label, request.secret
        )
        assert (entry["validFrom"], entry["validUntil"]) == _ms(window)
        assert started * 1000 - 1 <= entry["at"] <= time.time() * 1000 + 1


async def test_a_refused_issue_writes_nothing_in_the_journal(ttlock: VendorHarness) -> None:
    lock = ttlock.lock(0)
    await ttlock.take_gateway_offline(lock)

    with pytest.raises(VendorUnavailable):
        await ttlock.port.issue(issue_request(ttlock, CredentialKind.PASSCODE, lock))
    await ttlock.inject("rate_limit", count=1)
    with pytest.raises(RateLimited):
        await ttlock.port.issue(issue_request(ttlock, CredentialKind.MOBILE_KEY, lock))

    assert await _journal(ttlock) == []


async def test_a_duplicate_delivery_journals_both_ekeys_it_created(ttlock: VendorHarness) -> None:
    lock = ttlock.lock(0)
    await ttlock.inject("duplicate_delivery", count=1, only="/v3/key/send")

    request = issue_request(ttlock, CredentialKind.MOBILE_KEY, lock)
    await ttlock.port.issue(request)

    entries = await _journal(ttlock)
    assert [(e["op"], e["label"]) for e in entries] == [("issue", request.label), ("issue", request.label)]
    assert len({e["credential"] for e in entries}) == 2
    assert len(await ttlock.sandbox_credentials(lock)) == 2


async def test_an_issue_executed_then_timed_out_is_journaled_once(ttlock: VendorHarness) -> None:
    lock, port = ttlock.lock(0), ttlock.make_port(timeout_s=0.2)
    await ttlock.inject("executed_then_timeout", count=1, latency_ms=1000)

    with pytest.raises(VendorTimeout):
        await port.issue(issue_request(ttlock, CredentialKind.PASSCODE, lock))

    assert [e["op"] for e in await _journal(ttlock)] == ["issue"]


async def test_a_timeout_that_lands_late_is_journaled_when_it_lands(ttlock: VendorHarness) -> None:
    lock, port = ttlock.lock(0), ttlock.make_port(timeout_s=0.1)
    await ttlock.inject("timeout", count=1, latency_ms=400, only="/v3/key/send")

    with pytest.raises(VendorTimeout):
        await port.issue(issue_request(ttlock, CredentialKind.MOBILE_KEY, lock))
    assert await _journal(ttlock) == []
    for _ in range(50):
        if await _journal(ttlock):
            break
        await asyncio.sleep(0.05)

    assert [e["op"] for e in await _journal(ttlock)] == ["issue"]


async def _issued_passcode(ttlock: VendorHarness) -> tuple[Validity, dict[str, str]]:
    """A passcode issued through the adapter on lock 0: its validity, and the wire parameters naming it."""
    lock = ttlock.lock(0)
    request = issue_request(ttlock, CredentialKind.PASSCODE, lock)
    await ttlock.port.issue(request)
    [held] = (await ttlock.admin.get(ttlock.credentials_path(lock))).json()
    return request.validity, {"lockId": lock.vendor_lock_id, "keyboardPwdId": str(held["id"])}


async def test_a_cloud_only_delete_writes_no_revoke_as_the_lock_still_opens(ttlock: VendorHarness) -> None:
    _, pwd = await _issued_passcode(ttlock)

    deleted = await _wire(ttlock, "/v3/keyboardPwd/delete", **pwd, deleteType="1")

    assert deleted["errcode"] == 0
    assert [e["op"] for e in await _journal(ttlock)] == ["issue"]
    [orphan] = (await ttlock.admin.get(ttlock.credentials_path(ttlock.lock(0)))).json()
    assert orphan["inCloud"] is False


async def test_a_cloud_only_change_writes_nothing_and_the_lock_keeps_its_version(ttlock: VendorHarness) -> None:
    validity, pwd = await _issued_passcode(ttlock)

    changed = await _wire(
        ttlock, "/v3/keyboardPwd/change", **pwd, startDate="1900000000000", endDate="1900086400000", changeType="1"
    )

    assert changed["errcode"] == 0
    assert [e["op"] for e in await _journal(ttlock)] == ["issue"]
    [kept] = (await ttlock.admin.get(ttlock.credentials_path(ttlock.lock(0)))).json()
    assert (str(kept["id"]), kept["inCloud"]) == (pwd["keyboardPwdId"], False)
    assert (kept["startDate"], kept["endDate"]) == _ms(validity)


async def test_a_delete_through_the_gateway_revokes_the_version_the_lock_kept(ttlock: VendorHarness) -> None:
    validity, pwd = await _issued_passcode(ttlock)
    await _wire(
        ttlock, "/v3/keyboardPwd/change", **pwd, startDate="1900000000000", endDate="1900086400000", changeType="1"
    )

    await _wire(ttlock, "/v3/keyboardPwd/delete", **pwd, deleteType="2")

    entries = await _journal(ttlock)
    assert [e["op"] for e in entries] == ["issue", "revoke"]
    assert (entries[1]["validFrom"], entries[1]["validUntil"]) == _ms(validity)
    assert await ttlock.sandbox_credentials(ttlock.lock(0), include_cloud_only=True) == []
