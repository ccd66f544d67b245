"""The saga benchmark's runs, each the same input once through the raw loop (the anchor) and once through the service:
a backlog of confirmations (throughput), paced confirmations (latency), and the backlog on two workers."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from app.domain.reservation import ReservationEvent
from tests.benchmarks.saga.anchor import AnchorAccount, RawLoop
from tests.benchmarks.saga.probe import (
    CpuWindow,
    Stamped,
    peak_rss_mb,
    percentile,
    publish_paced,
    rate_of,
    read_stamped,
)
from tests.pipeline import Pipeline

TIMEOUT_S = 300.0  # no run of the benchmark waits longer than this for its answers


def encoded(events: Sequence[ReservationEvent]) -> list[tuple[bytes, bytes]]:
    return [(event.stay_id.encode(), event.model_dump_json().encode()) for event in events]


def issued_by_lock(records: list[Stamped]) -> dict[str, float]:
    """When each lock's first ``key.issued`` was produced."""
    first: dict[str, float] = {}
    for record in records:
        if record.value.get("type") == "key.issued":
            first.setdefault(str(record.value["lock_id"]), record.at)
    return first


def requested_by_lock(records: list[Stamped]) -> dict[str, float]:
    """When each confirmation reached the broker, by the lock of its room."""
    return {f"door-{int(str(r.value['rooms'][0])) - 100}": r.at for r in records  # type: ignore[index]
            if isinstance(r.value.get("rooms"), list)}


class Runs:
    """One pipeline's worker(s), the anchor's account on the same sandbox, and the processes whose CPU counts."""

    def __init__(self, pipeline: Pipeline, anchor: AnchorAccount) -> None:
        self.pipeline, self.anchor = pipeline, anchor
        stack = pipeline.stack
        broker = stack.kafka.brokers[0].process if stack.kafka else None
        sandbox = next(p for p in reversed(stack.processes) if "ttlock" in " ".join(map(str, p.args)))
        self.pids = {"bench process (anchor, load, reader)": os.getpid(), "kafka": broker.pid if broker else 0,
                     "ttlock sandbox": sandbox.pid}
        self.pids = {name: pid for name, pid in self.pids.items() if pid}

    def _worker_pids(self) -> dict[str, int]:
        return {f"worker {n + 1}": w.pid for n, w in enumerate(w for w in self.pipeline.workers if w.poll() is None)}

    async def anchor_backlog(self, rooms: range, tag: str) -> dict[str, Any]:
        """The raw loop over a backlog of ``rooms`` confirmations already on its topic."""
        source, sink = self.pipeline.topic(f"anchor.{tag}.in"), self.pipeline.topic(f"anchor.{tag}.out")
        await create_topics(self.pipeline.stack.kafka_bootstrap, [source, sink])
        await publish_paced(self.pipeline.stack.kafka_bootstrap, source, encoded(self.pipeline.confirmations(rooms)),
                            rate=1e9)
        loop = RawLoop(self.pipeline.stack.kafka_bootstrap, source, sink, self.anchor)
        cpu = CpuWindow(self.pids)
        cpu.open()
        task = asyncio.create_task(loop.run())
        answers = await read_stamped(self.pipeline.stack.kafka_bootstrap, sink, timeout_s=TIMEOUT_S,
                                     until=lambda rs: len(rs) >= len(rooms) or task.done())
        shares = cpu.close()
        loop.stop()
        await task
        return {"events": len(answers), "per_s": round(rate_of([a.at for a in answers]), 1), "cpu_cores": shares}

    async def service_backlog(self, rooms: range) -> dict[str, Any]:
        """The service over a backlog of ``rooms`` confirmations: first to last ``key.issued``."""
        locks = {f"door-{n}" for n in rooms}
        cpu = CpuWindow({**self.pids, **self._worker_pids()})
        opened: list[bool] = []

        def sample(batch: list[Stamped]) -> None:  # the CPU window opens with the first key issued
            if not opened and any(r.value.get("type") == "key.issued" for r in batch):
                cpu.open()
                opened.append(True)

        await self.pipeline.publish(self.pipeline.confirmations(rooms))
        events = await read_stamped(self.pipeline.stack.kafka_bootstrap, self.pipeline.topic("lock.events"),
                                    timeout_s=TIMEOUT_S, on_batch=sample,
                                    until=lambda rs: locks <= set(issued_by_lock(rs)))
        shares = cpu.close() if opened else {}
        issued = {lock: at for lock, at in issued_by_lock(events).items() if lock in locks}
        return {"events": len(issued), "per_s": round(rate_of(list(issued.values())), 1), "cpu_cores": shares,
                "peak_rss_mb": {name: round(peak_rss_mb(pid), 1) for name, pid in self._worker_pids().items()}}

    async def anchor_latency(self, rooms: range, rate: float) -> dict[str, Any]:
        """The raw loop's hop from confirmation to answer, confirmations sent at ``rate`` per second."""
        bootstrap = self.pipeline.stack.kafka_bootstrap
        source, sink = self.pipeline.topic(f"anchor.lat{rate:g}.in"), self.pipeline.topic(f"anchor.lat{rate:g}.out")
        await create_topics(bootstrap, [source, sink])
        loop = RawLoop(bootstrap, source, sink, self.anchor)
        task = asyncio.create_task(loop.run())
        await asyncio.sleep(2)  # the loop has its partitions before the first confirmation is sent
        await publish_paced(bootstrap, source, encoded(self.pipeline.confirmations(rooms)), rate)
        answers = await read_stamped(bootstrap, sink, timeout_s=TIMEOUT_S,
                                     until=lambda rs: len(rs) >= len(rooms) or task.done())
        loop.stop()
        await task
        sent = await read_stamped(bootstrap, source, timeout_s=30, until=lambda rs: len(rs) >= len(rooms))
        return latencies(requested_by_lock(sent), issued_by_lock(answers))

    async def service_latency(self, rooms: range, rate: float) -> dict[str, Any]:
        """The service's PMS event → ``key.issued``, confirmations sent at ``rate`` per second."""
        bootstrap, pipeline = self.pipeline.stack.kafka_bootstrap, self.pipeline
        locks = {f"door-{n}" for n in rooms}
        await publish_paced(bootstrap, pipeline.topic("pms.reservations"), encoded(pipeline.confirmations(rooms)),
                            rate)
        events = await read_stamped(bootstrap, pipeline.topic("lock.events"), timeout_s=TIMEOUT_S,
                                    until=lambda rs: locks <= set(issued_by_lock(rs)))
        sent = await read_stamped(bootstrap, pipeline.topic("pms.reservations"), timeout_s=60,
                                  until=lambda rs: locks <= set(requested_by_lock(rs)))
        requested = {lock: at for lock, at in requested_by_lock(sent).items() if lock in locks}
        return latencies(requested, issued_by_lock(events))

    async def wait_for_members(self, members: int, timeout_s: float = 90) -> None:
        """Until the worker group is stable with ``members`` members (a rebalance mid-run would measure it)."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.pipeline.stack.kafka_bootstrap)
        await admin.start()
        deadline = time.monotonic() + timeout_s
        try:
            while time.monotonic() < deadline:
                group = (await admin.describe_consumer_groups([self.pipeline.app_id]))[0].groups[0]
                if group[2] == "Stable" and len(group[5]) == members:
                    return
                await asyncio.sleep(1)
        finally:
            await admin.close()
        raise TimeoutError(f"the worker group did not settle with {members} members in {timeout_s:.0f} s")


async def create_topics(bootstrap: str, names: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, num_partitions=4, replication_factor=1) for name in names])
    finally:
        await admin.close()


def latencies(requested: dict[str, float], answered: dict[str, float]) -> dict[str, Any]:
    hops = [1000 * (answered[lock] - at) for lock, at in requested.items() if lock in answered]
    if not hops:
        return {"events": 0, "answered": 0}
    return {"events": len(requested), "answered": len(hops), "p50_ms": round(percentile(hops, 0.5), 1),
            "p99_ms": round(percentile(hops, 0.99), 1), "max_ms": round(max(hops), 1)}
