"""FAILURE_MODES rows through the real path: a real worker, the default vendor caller and its retries, the sandboxes
injecting the row's fault; judged on the vendor side by the history checker."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from app.devstack.stack import Stack
from tests.pipeline import Pipeline, distinct, fast_retries

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]

RETRY_AFTER_S = 6
FAST_RETRIES = fast_retries()


async def test_a_rate_limited_issue_waits_for_the_vendors_retry_after_through_the_delayed_retry(
    stack: Stack,
) -> None:
    """Salto answers 429 with Retry-After 6 s; the delayed retry may not come sooner although its cap is 0.5 s."""
    pipeline = await Pipeline(stack, rooms=2, salto_rooms=2, worker_env=FAST_RETRIES).start()
    try:
        events = pipeline.confirmations([1, 2])
        await pipeline.publish(events[:1])  # the worker is up and has a token: the next call is the issue's
        await pipeline.read("lock.events", until=lambda rs: distinct(rs, "key.issued"), timeout_s=60)
        await pipeline.inject("rate_limit", vendor="salto", rate=1.0, count=1, retry_after_s=RETRY_AFTER_S,
                              only="POST /api/v1/users")
        sent_ms = time.time() * 1000
        await pipeline.publish(events[1:])
        lock_events = await pipeline.read("lock.events", until=lambda rs: len(distinct(rs, "key.issued")) >= 2,
                                          timeout_s=60)
        assert not distinct(lock_events, "key.issue_failed")
        async with httpx.AsyncClient(base_url=pipeline.salto_url) as http:
            assert (await http.get("/sandbox/stats")).json()["faultsFired"] == {"rate_limit": 1}
        issued = [e for e in await pipeline.journal("salto") if e["op"] == "issue" and e["at"] > sent_ms]
        waited_s = (issued[0]["at"] - sent_ms) / 1000
        assert RETRY_AFTER_S <= waited_s < RETRY_AFTER_S + 20, f"issued {waited_s:.1f} s after the PMS event"
        report = await pipeline.settled_history(events)
        assert report.clean, report.summary()
    finally:
        pipeline.stop()


async def test_gateway_busy_is_ridden_out_by_quick_and_delayed_retries(stack: Stack) -> None:
    """Half the gateway commands refused busy (TTLock -3003): every guest still gets exactly one key."""
    pipeline = await Pipeline(stack, rooms=20, worker_env=FAST_RETRIES).start()
    try:
        await pipeline.inject("gateway_busy", rate=0.5, count=40)
        events = pipeline.confirmations(range(1, 21))
        await pipeline.publish(events)
        await pipeline.read("lock.events", until=lambda rs: len(distinct(rs, "key.issued")) >= 20, timeout_s=120)
        report = await pipeline.settled_history(events)
        assert report.clean, report.summary()
        async with httpx.AsyncClient(base_url=pipeline.sandbox_url) as http:
            fired = (await http.get("/sandbox/stats")).json()["faultsFired"]
        assert fired.get("gateway_busy", 0) >= 5, f"the fault hardly fired: {fired}"
    finally:
        pipeline.stop()


async def test_a_rebalance_between_two_workers_mid_saga_neither_duplicates_nor_loses_a_key(stack: Stack) -> None:
    """Two workers share the lock partitions; one is SIGKILLed while the journal shows sagas mid-flight, and its
    partitions move to the other, which finishes every saga."""
    pipeline = await Pipeline(stack, rooms=60, ledger=True).start()
    try:
        survivor = pipeline.start_worker(data_dir="-second")
        await asyncio.sleep(15)  # both in the group, partitions shared
        await pipeline.inject("latency", rate=1.0, latency_ms=150)  # slow enough for sagas to be in flight
        events = pipeline.confirmations(range(1, 61))
        await pipeline.publish(events)
        for _ in range(600):  # kill once keys are landing: sagas are in flight
            if len(await pipeline.journal()) >= 10:
                break
            await asyncio.sleep(0.2)
        victim = pipeline.workers[0]
        pipeline.kill_worker(victim)
        applied = len(await pipeline.journal())
        assert applied < 55, f"{applied} keys were on the doors before the kill: nothing was in flight"
        await pipeline.inject("clear")
        issued = await pipeline.read("lock.events", until=lambda rs: len(distinct(rs, "key.issued")) >= 60,
                                     timeout_s=180)
        print(f"rebalance: {len(distinct(issued, 'key.issued'))} of 60 keys issued after the kill of {victim.pid}")
        report = await pipeline.settled_history(events)
        assert report.clean, report.summary()
        moved = _partitions_processed_by_both(pipeline.ledger_path, "lock.commands", victim.pid, survivor.pid)
        assert moved, "no lock partition was processed by both workers: there was no rebalance"
    finally:
        pipeline.stop()


async def test_a_takeover_of_partitions_nobody_committed_yet_processes_every_record(stack: Stack) -> None:
    """The victim commits nothing (a commit interval longer than the test), so the survivor takes over partitions
    that hold records but no committed offset: it must read them from their beginning."""
    pipeline = await Pipeline(stack, rooms=40, ledger=True, worker_env={"LIS_COMMIT_INTERVAL_S": "3600"}).start()
    try:
        survivor = pipeline.start_worker(data_dir="-second")
        await asyncio.sleep(15)  # both in the group, partitions shared
        await pipeline.inject("latency", rate=1.0, latency_ms=150)
        events = pipeline.confirmations(range(1, 41))
        await pipeline.publish(events)
        for _ in range(600):
            if len(await pipeline.journal()) >= 5:
                break
            await asyncio.sleep(0.2)
        victim = pipeline.workers[0]
        pipeline.kill_worker(victim)
        await pipeline.inject("clear")
        issued = await pipeline.read("lock.events", until=lambda rs: len(distinct(rs, "key.issued")) >= 40,
                                     timeout_s=120)
        assert len(distinct(issued, "key.issued")) == 40, (
            f"{len(distinct(issued, 'key.issued'))} of 40 keys issued after {victim.pid} was killed; "
            f"processed by the survivor {survivor.pid}: {_processed_by(pipeline.ledger_path, survivor.pid)}")
        report = await pipeline.settled_history(events)
        assert report.clean, report.summary()
    finally:
        pipeline.stop()


def _processed_by(ledger: Path, pid: int) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for line in ledger.read_text().splitlines():
        name, partition, _offset, by = line.split()
        if int(by) == pid:
            counts[f"{name}[{partition}]"] += 1
    return dict(counts)


def _partitions_processed_by_both(ledger: Path, topic: str, first: int, second: int) -> list[int]:
    seen: Counter[tuple[int, int]] = Counter()
    for line in ledger.read_text().splitlines():
        name, partition, _offset, pid = line.split()
        if name.endswith(topic):
            seen[(int(partition), int(pid))] += 1
    return sorted({p for p, pid in seen if pid == first} & {p for p, pid in seen if pid == second})
