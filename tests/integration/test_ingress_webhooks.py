"""Standard Webhooks at the running ingress (``lis ingress serve``) with the real broker and PostgreSQL: what is
accepted is on ``vendor.webhooks`` keyed by lock, everything else is refused with its reason and counted."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from adapters.postgres.directory import save_property_directory
from adapters.postgres.pool import create_pool
from adapters.postgres.webhook_endpoints import receipt_count
from app.devstack.stack import Stack
from app.domain.directory import DirectoryLock, PropertyDirectory
from app.domain.stay_times import PropertyTimes
from tests.benchmarks.ingress.live import REGION, LiveIngress, new_secret, salto_event, signed_headers

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

# The published Standard Webhooks test vector (VENDORS.md).
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_HEADERS = {"webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1614265330",
                  "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}
VECTOR_BODY = b'{"test": 2432232314}'


@pytest.fixture(scope="module")
async def ingress(stack: Stack) -> AsyncIterator[LiveIngress]:
    live = LiveIngress(stack, salto_secret=VECTOR_SECRET,
                       env={"LIS_INGRESS_MAX_BODY_BYTES": "4096", "LIS_INGRESS_TENANT_RATE": "20",
                            "LIS_INGRESS_TENANT_BURST": "40"})
    await live.start()
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


async def test_the_published_vector_is_refused_as_expired_and_its_secret_signs_an_accepted_webhook(
    ingress: LiveIngress, http: httpx.AsyncClient
) -> None:
    stale = await http.post(ingress.salto_url(), content=VECTOR_BODY, headers=VECTOR_HEADERS)
    assert (stale.status_code, stale.json()["reason"]) == (401, "timestamp_too_old")

    body = salto_event("AP-1", "accessPoint.offline")
    accepted = await ingress.send_salto(http, body, VECTOR_SECRET)
    assert accepted.status_code == 202
    webhook_id = accepted.json()["webhook_id"]
    records = await ingress.produced(until=lambda rs: any(v["webhook_id"] == webhook_id for _, v in rs))
    (key, webhook), = [(k, v) for k, v in records if v["webhook_id"] == webhook_id]
    assert key == ingress.lock_key("door-AP-1")
    assert (webhook["vendor"], webhook["lock_id"], webhook["events"][0]["type"]) == ("salto", "door-AP-1",
                                                                                     "lock.offline")


async def test_tampered_body_timestamp_or_signature_is_refused_and_never_produced(
    ingress: LiveIngress, http: httpx.AsyncClient
) -> None:
    body = salto_event("AP-1", "accessPoint.online")
    headers = signed_headers(body, ingress.salto_secret)
    tampered = {
        "body": (body.replace(b"online", b"offline"), headers),
        "timestamp": (body, {**headers, "webhook-timestamp": str(int(headers["webhook-timestamp"]) - 1)}),
        "signature": (body, {**headers, "webhook-signature": signed_headers(body, new_secret())["webhook-signature"]}),
    }
    before = await ingress.metric(http, 401, "bad_signature")
    for content, sent_headers in tampered.values():
        refused = await http.post(ingress.salto_url(), content=content, headers=sent_headers)
        assert (refused.status_code, refused.json()["reason"]) == (401, "bad_signature")
    assert await ingress.metric(http, 401, "bad_signature") == before + 3
    control = await ingress.send_salto(http, salto_event("AP-2"))
    assert control.status_code == 202
    control_id = control.json()["webhook_id"]
    records = await ingress.produced(until=lambda rs: any(v["webhook_id"] == control_id for _, v in rs))
    assert headers["webhook-id"] not in {v["webhook_id"] for _, v in records}


async def test_a_replayed_webhook_id_is_refused_and_produced_once(ingress: LiveIngress, http: httpx.AsyncClient,
                                                                  stack: Stack) -> None:
    body = salto_event("AP-2", "battery.low", batteryLevel=12)
    headers = signed_headers(body, ingress.salto_secret)
    first = await http.post(ingress.salto_url(), content=body, headers=headers)
    replays = await asyncio.gather(*(http.post(ingress.salto_url(), content=body, headers=headers)
                                     for _ in range(3)))
    assert first.status_code == 202
    assert {(r.status_code, r.json()["reason"]) for r in replays} == {(409, "replayed")}
    records = await ingress.produced(until=lambda rs: False, timeout_s=3)
    assert [v["webhook_id"] for _, v in records].count(headers["webhook-id"]) == 1
    pool = await create_pool(stack.database_url, max_size=1)
    try:
        assert await receipt_count(pool, ingress.tenant, "salto", headers["webhook-id"]) == 1
    finally:
        await pool.close()


async def test_an_expired_or_future_timestamp_is_refused(ingress: LiveIngress, http: httpx.AsyncClient) -> None:
    body = salto_event("AP-1")
    # 10 s past the 300 s tolerance: int(time.time()) drops up to a second, and the request takes time
    for shift, reason in ((-310, "timestamp_too_old"), (310, "timestamp_too_new")):
        headers = signed_headers(body, ingress.salto_secret, timestamp=int(time.time()) + shift)
        refused = await http.post(ingress.salto_url(), content=body, headers=headers)
        assert (refused.status_code, refused.json()["reason"]) == (401, reason)


async def test_an_oversized_body_is_refused_before_it_is_read_and_while_it_streams(
    ingress: LiveIngress, http: httpx.AsyncClient
) -> None:
    body = salto_event("AP-1", padding="x" * 5000)
    declared = await ingress.send_salto(http, body)
    assert (declared.status_code, declared.json()["reason"]) == (413, "body_too_large")

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 1000):
            yield body[start:start + 1000]

    streamed = await http.post(ingress.salto_url(), content=chunks(), headers=signed_headers(body, VECTOR_SECRET))
    assert (streamed.status_code, streamed.json()["reason"]) == (413, "body_too_large")


async def test_a_rotated_secret_is_accepted_and_the_old_one_only_until_its_grace_ends(
    ingress: LiveIngress, http: httpx.AsyncClient, stack: Stack
) -> None:
    def rotate(grace_hours: float) -> str:
        result = subprocess.run([sys.executable, "-m", "app", "ingress", "secret", "rotate", "--tenant",
                                 ingress.tenant, "--vendor", "salto", "--grace-hours", str(grace_hours)],
                                env=stack.env(), capture_output=True, text=True, check=True, timeout=60)
        return result.stdout.strip()

    old = ingress.salto_secret
    new = await asyncio.to_thread(rotate, 1.0)
    assert new.startswith("whsec_")
    assert new != old
    for keys in ((old,), (new,), (new, old)):
        accepted = await ingress.send_salto(http, salto_event("AP-1"), *keys)
        assert accepted.status_code == 202, keys
    newest = await asyncio.to_thread(rotate, 0.0)
    for keys, status in (((old,), 401), ((new,), 401), ((newest,), 202), ((old, newest), 202)):
        answer = await ingress.send_salto(http, salto_event("AP-1"), *keys)
        assert answer.status_code == status, keys
    ingress.salto_secret = newest


async def test_unknown_tenant_or_lock_and_malformed_events_are_refused_with_their_reason(
    ingress: LiveIngress, http: httpx.AsyncClient
) -> None:
    body = salto_event("AP-404")
    unknown_tenant = await http.post(ingress.salto_url("nobody"), content=body,
                                     headers=signed_headers(body, ingress.salto_secret))
    unknown_lock = await ingress.send_salto(http, body)
    malformed = await ingress.send_salto(http, b'{"type": "door.opened"}')
    assert [(r.status_code, r.json()["reason"]) for r in (unknown_tenant, unknown_lock, malformed)] == [
        (404, "unknown_endpoint"), (422, "unknown_lock"), (400, "malformed_payload")]


async def test_the_rate_limit_is_per_tenant(ingress: LiveIngress, http: httpx.AsyncClient, stack: Stack) -> None:
    noisy = LiveIngress(stack, prefix=f"{ingress.tenant}-noisy.", salto_secret=ingress.salto_secret)
    await noisy.provision()
    noisy.url = ingress.url
    answers = await asyncio.gather(*(noisy.send_salto(http, salto_event("AP-1")) for _ in range(60)))
    statuses = [a.status_code for a in answers]
    assert statuses.count(429) >= 1
    assert statuses.count(202) >= 40
    assert all(a.headers["Retry-After"].isdigit() for a in answers if a.status_code == 429)
    assert (await ingress.send_salto(http, salto_event("AP-1"))).status_code == 202


async def test_logs_and_metrics_never_show_a_secret(ingress: LiveIngress, http: httpx.AsyncClient) -> None:
    body = salto_event("AP-1")
    headers = signed_headers(body, ingress.salto_secret)
    assert (await http.post(ingress.salto_url(), content=body, headers=headers)).status_code == 202
    await http.post(ingress.ttlock_url("wrong-" + ingress.path_secret), content=b"x=1")
    metrics = (await http.get(f"{ingress.url}/metrics")).text
    log = ingress.log_text()
    assert "POST /webhooks/salto/" in log, "the access log is on: the check below means something"
    assert "/webhooks/ttlock/" in log
    assert "<redacted>" in log
    for secret in (ingress.salto_secret, VECTOR_SECRET.removeprefix("whsec_"), ingress.path_secret,
                   headers["webhook-signature"].split(",", 1)[1]):
        assert secret not in log
        assert secret not in metrics


async def test_a_path_segment_cannot_forge_a_log_line(ingress: LiveIngress, http: httpx.AsyncClient) -> None:
    forged = "x%0A2026-12-02 INFO lis.ingress webhook accepted tenant=victim"
    for url in (f"{ingress.url}/webhooks/salto/{forged}", f"{ingress.url}/webhooks/ttlock/{forged}/some-secret",
                f"{ingress.url}/webhooks/{forged}/{ingress.tenant}"):
        answer = await http.post(url, content=b"{}")
        assert 400 <= answer.status_code < 500, (url, answer.status_code)
    lines = ingress.log_text().splitlines()
    assert not [line for line in lines if line.startswith("2026-12-02 INFO lis.ingress webhook accepted")]
    assert any("%0A2026-12-02" in line or "\\n2026-12-02" in line for line in lines), "the attempt is logged, escaped"


async def test_a_vendor_lock_id_in_two_properties_is_refused_as_ambiguous_and_twice_in_one_by_postgresql(
    ingress: LiveIngress, http: httpx.AsyncClient, stack: Stack
) -> None:
    def directory(property_id: str, *vendor_ids: str) -> PropertyDirectory:
        return PropertyDirectory(tenant=ingress.tenant, region=REGION, property=property_id,
                                 times=PropertyTimes(time_zone="Europe/Berlin"), locks=tuple(
                                     DirectoryLock(lock_id=f"{property_id}-door-{n}", vendor="salto",
                                                   vendor_lock_id=v, room=str(n)) for n, v in enumerate(vendor_ids)))

    pool = await create_pool(stack.database_url, max_size=1)
    try:
        # Two loads of two files: each file alone is valid, together they give AP-7 twice.
        await save_property_directory(pool, directory("annex", "AP-7"))
        await save_property_directory(pool, directory("tower", "AP-7"))
        with pytest.raises(asyncpg.UniqueViolationError):
            await save_property_directory(pool, directory("garden", "AP-8", "AP-8"))
    finally:
        await pool.close()

    refused = await ingress.send_salto(http, salto_event("AP-7"))

    assert (refused.status_code, refused.json()["reason"]) == (422, "ambiguous_lock")
