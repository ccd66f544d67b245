"""Nothing accepted is lost: the broker of a running ingress is killed while webhooks stream in, and every webhook the
senders saw a 2xx for is on ``vendor.webhooks``; the others got a retryable 503, never a 2xx and never a 500."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from adapters.ttlock import dev_sandbox as ttlock_sandbox
from app.devstack.kafka import KafkaCluster
from app.devstack.stack import Stack
from app.domain.directory import DirectoryLock
from tests.benchmarks.ingress.live import FORM, LOCK, LiveIngress, callback, lock_record, salto_event, signed_headers

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]

SENDERS = 4


@pytest.fixture
async def broker() -> AsyncIterator[KafkaCluster]:
    """A broker of this test's own: killing the session's broker would break every other test."""
    cluster = await asyncio.to_thread(KafkaCluster.start, brokers=1)
    try:
        yield cluster
    finally:
        await asyncio.to_thread(cluster.stop)


class Senders:
    """Signed webhooks sent back to back by a few concurrent senders; every answer is kept with its webhook id."""

    def __init__(self, live: LiveIngress) -> None:
        self.live = live
        self.answers: list[tuple[float, str, int, str]] = []  # (monotonic time, webhook id, status, reason)
        self._stop = asyncio.Event()

    async def run(self) -> None:
        async with httpx.AsyncClient(timeout=30) as http:
            while not self._stop.is_set():
                body = salto_event("AP-1", "accessPoint.online")
                headers = signed_headers(body, self.live.salto_secret)
                answer = await http.post(self.live.salto_url(), content=body, headers=headers)
                reason = answer.json().get("reason", "accepted")
                self.answers.append((time.monotonic(), headers["webhook-id"], answer.status_code, reason))
                await asyncio.sleep(0.01)

    def stop(self) -> None:
        self._stop.set()

    def count(self, status: int, since: float = 0.0) -> int:
        return sum(1 for at, _, code, _ in self.answers if code == status and at >= since)

    async def wait_for(self, status: int, count: int, since: float, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while self.count(status, since) < count:
            assert time.monotonic() < deadline, f"fewer than {count} answers {status} within {timeout_s}s"
            await asyncio.sleep(0.1)


async def test_a_broker_killed_mid_stream_never_costs_a_webhook_that_was_answered_2xx(
    stack: Stack, broker: KafkaCluster
) -> None:
    live = LiveIngress(stack, env={"KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
                                   "LIS_INGRESS_PRODUCE_TIMEOUT_S": "2"})
    await live.start()
    senders = Senders(live)
    tasks = [asyncio.create_task(senders.run()) for _ in range(SENDERS)]
    try:
        await senders.wait_for(202, 20, since=0.0, timeout_s=30)
        killed_at = time.monotonic()
        await asyncio.to_thread(broker.stop_broker, 1, kill=True)
        await senders.wait_for(503, 2 * SENDERS, since=killed_at, timeout_s=30)
        restarted_at = time.monotonic()
        await asyncio.to_thread(broker.start_broker, 1)
        await senders.wait_for(202, 20, since=restarted_at, timeout_s=90)
    finally:
        senders.stop()
        await asyncio.gather(*tasks)
        live.stop()

    outage = [(status, reason) for at, _, status, reason in senders.answers if killed_at <= at < restarted_at]
    assert {(503, "broker_unavailable")} <= set(outage) <= {(202, "accepted"), (503, "broker_unavailable")}
    assert all(status < 500 or reason == "broker_unavailable" for _, _, status, reason in senders.answers)
    accepted = {webhook_id for _, webhook_id, status, _ in senders.answers if status == 202}
    produced = await live.produced(until=lambda rs: accepted <= {v["webhook_id"] for _, v in rs}, timeout_s=60,
                                   bootstrap=broker.bootstrap_servers)
    missing = accepted - {v["webhook_id"] for _, v in produced}
    print(f"answers={len(senders.answers)} accepted={len(accepted)} refused_during_outage="
          f"{sum(s == 503 for s, _ in outage)} missing={len(missing)}")
    assert missing == set(), "a sender was told 2xx for a webhook that never reached the broker"


async def test_a_ttlock_callback_in_flight_when_the_broker_dies_gets_no_success_and_its_retry_is_kept(
    stack: Stack, broker: KafkaCluster
) -> None:
    running = await ttlock_sandbox.start(stack, [DirectoryLock(lock_id=f"door-{LOCK}", vendor="ttlock",
                                              vendor_lock_id=str(LOCK), gateway_id="1")])
    sandbox_url, account = running.url, running.account
    live = LiveIngress(stack, salto_locks=(), ttlock_locks=(str(LOCK),),
                       env={"KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers, "LIS_INGRESS_PRODUCE_TIMEOUT_S": "2"})
    await live.start(ttlock_account=account)
    try:
        async with httpx.AsyncClient(base_url=sandbox_url, timeout=30) as sandbox, \
                httpx.AsyncClient(timeout=30) as http:
            warm = await http.post(live.ttlock_url(), content=callback(await lock_record(sandbox, 12)), headers=FORM)
            assert warm.text == "success"
            body = callback(await lock_record(sandbox, 4))
            # TTLock takes 3 s to confirm: the request is inside the ingress when the broker dies.
            fault = {"mode": "latency", "latencyMs": 3000, "count": 1}
            (await sandbox.post("/sandbox/faults", json=fault)).raise_for_status()
            in_flight = asyncio.create_task(http.post(live.ttlock_url(), content=body, headers=FORM))
            await asyncio.sleep(1.0)
            await asyncio.to_thread(broker.stop_broker, 1, kill=True)
            answer = await in_flight
            assert answer.text != "success"
            assert (answer.status_code, answer.json()["reason"]) == (503, "broker_unavailable")
            await asyncio.to_thread(broker.start_broker, 1)
            deadline = time.monotonic() + 60
            while (retried := await http.post(live.ttlock_url(), content=body, headers=FORM)).text != "success":
                assert retried.status_code == 503, "a retry after the outage is accepted, never refused as a replay"
                assert time.monotonic() < deadline, "the ingress never recovered after the broker came back"
                await asyncio.sleep(1)
    finally:
        live.stop()
    produced = await live.produced(until=lambda rs: len(rs) >= 2, bootstrap=broker.bootstrap_servers)
    assert [v["events"][0]["vendor_type"] for _, v in produced][-1] == "ttlock.recordType.4"
