"""TTLock callbacks at the running ingress: accepted (plain ``success``) only with the tenant's path secret and only
after every record is confirmed through the TTLock sandbox's ``/v3/lockRecord/list`` over HTTP."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator

import httpx
import pytest

from adapters.ttlock import dev_sandbox as ttlock_sandbox
from app.devstack.stack import Stack
from app.domain.directory import DirectoryLock
from tests.benchmarks.ingress.live import FORM, LOCK, LiveIngress, callback, lock_record

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

LABEL = "lis-00c0ffee00c0ffee"


@pytest.fixture(scope="module")
async def ingress(stack: Stack) -> AsyncIterator[tuple[LiveIngress, httpx.AsyncClient]]:
    running = await ttlock_sandbox.start(stack, [DirectoryLock(lock_id="door-61001", vendor="ttlock",
                                              vendor_lock_id=str(LOCK), gateway_id="1")])
    sandbox_url, account = running.url, running.account
    live = LiveIngress(stack, salto_locks=(), ttlock_locks=(str(LOCK),))
    await live.start(ttlock_account=account)
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=30) as sandbox:
        try:
            yield live, sandbox
        finally:
            live.stop()


async def record_list_calls(sandbox: httpx.AsyncClient) -> int:
    calls: int = (await sandbox.get("/sandbox/stats")).json()["calls"].get("/v3/lockRecord/list", 0)
    return calls


async def test_a_callback_confirmed_by_ttlock_is_acknowledged_with_success_and_produced(
    ingress: tuple[LiveIngress, httpx.AsyncClient],
) -> None:
    live, sandbox = ingress
    record = await lock_record(sandbox, 4, username=LABEL, keyboardPwd="482913")
    listed_before = await record_list_calls(sandbox)
    async with httpx.AsyncClient(timeout=30) as http:
        answer = await http.post(live.ttlock_url(), content=callback(record), headers=FORM)
    assert (answer.status_code, answer.text) == (200, "success")
    assert await record_list_calls(sandbox) == listed_before + 1, "accepted without asking TTLock"
    produced = await live.produced(until=lambda rs: any(v["vendor"] == "ttlock" for _, v in rs))
    (key, webhook), = [(k, v) for k, v in produced if v["vendor"] == "ttlock"]
    assert key == live.lock_key(f"door-{LOCK}")
    (event,) = webhook["events"]
    assert (event["type"], event["method"], event["credential"]) == ("lock.unlocked", "passcode", LABEL)
    assert "482913" not in json.dumps(webhook), "the PIN never leaves the ingress"


async def test_a_forged_callback_is_refused_because_ttlock_does_not_list_its_record(
    ingress: tuple[LiveIngress, httpx.AsyncClient],
) -> None:
    live, sandbox = ingress
    real = await lock_record(sandbox, 7, username="lis-0000000000000007")
    forged = {**real, "recordType": 1, "username": "intruder"}  # same moment, another claim
    async with httpx.AsyncClient(timeout=30) as http:
        refused = await http.post(live.ttlock_url(), content=callback(real, forged), headers=FORM)
    assert refused.status_code == 403
    assert refused.text != "success"
    assert refused.json()["reason"] == "unconfirmed_record"
    produced = await live.produced(until=lambda rs: False, timeout_s=2)
    assert all(e["vendor_type"] != "ttlock.recordType.1" for _, v in produced for e in v["events"])


async def test_a_callback_without_the_tenants_path_secret_is_refused_before_ttlock_is_asked(
    ingress: tuple[LiveIngress, httpx.AsyncClient],
) -> None:
    live, sandbox = ingress
    body = callback(await lock_record(sandbox, 4))
    listed_before = await record_list_calls(sandbox)
    async with httpx.AsyncClient(timeout=30) as http:
        wrong = await http.post(live.ttlock_url(live.path_secret[:-1] + "x"), content=body, headers=FORM)
        missing = await http.post(f"{live.url}/webhooks/ttlock/{live.tenant}", content=body, headers=FORM)
    assert (wrong.status_code, wrong.json()["reason"]) == (401, "bad_path_secret")
    assert (missing.status_code, missing.json()["reason"]) == (404, "unknown_endpoint")
    assert await record_list_calls(sandbox) == listed_before
    assert live.path_secret not in live.log_text()


async def test_a_repeated_callback_is_refused_as_a_replay(ingress: tuple[LiveIngress, httpx.AsyncClient]) -> None:
    live, sandbox = ingress
    body = callback(await lock_record(sandbox, 12))
    async with httpx.AsyncClient(timeout=30) as http:
        first = await http.post(live.ttlock_url(), content=body, headers=FORM)
        again = await http.post(live.ttlock_url(), content=body, headers=FORM)
    assert first.text == "success"
    assert (again.status_code, again.json()["reason"]) == (409, "replayed")


async def test_when_ttlock_cannot_confirm_the_callback_gets_a_retryable_answer_and_later_success(
    ingress: tuple[LiveIngress, httpx.AsyncClient],
) -> None:
    live, sandbox = ingress
    body = callback(await lock_record(sandbox, 4, username=LABEL))
    (await sandbox.post("/sandbox/faults", json={"mode": "http_5xx", "count": 1})).raise_for_status()
    async with httpx.AsyncClient(timeout=30) as http:
        unavailable = await http.post(live.ttlock_url(), content=body, headers=FORM)
        retried = await http.post(live.ttlock_url(), content=body, headers=FORM)
    assert (unavailable.status_code, unavailable.json()["reason"]) == (503, "vendor_unavailable")
    assert unavailable.headers["Retry-After"] == "5"
    assert retried.text == "success", "the failed attempt left no receipt behind: its retry is not a replay"


async def test_a_new_path_secret_from_the_cli_replaces_the_old_one_at_once(
    ingress: tuple[LiveIngress, httpx.AsyncClient], stack: Stack,
) -> None:
    live, sandbox = ingress
    printed = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "app", "ingress", "secret", "ttlock-path",
                                                       "--tenant", live.tenant],
                                      env=stack.env(), capture_output=True, text=True, check=True, timeout=60)
    prefix = f"/webhooks/ttlock/{live.tenant}/"
    assert printed.stdout.startswith(prefix)
    old, live.path_secret = live.path_secret, printed.stdout.strip().removeprefix(prefix)
    async with httpx.AsyncClient(timeout=30) as http:
        stale = await http.post(live.ttlock_url(old), content=callback(await lock_record(sandbox, 4)), headers=FORM)
        fresh = await http.post(live.ttlock_url(), content=callback(await lock_record(sandbox, 7)), headers=FORM)
    assert (stale.status_code, stale.json()["reason"]) == (401, "bad_path_secret")
    assert fresh.text == "success"
