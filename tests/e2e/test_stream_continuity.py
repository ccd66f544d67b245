"""The agents' offset ledger repairs what Faust's bookkeeping loses: a group offset committed past records no
worker processed is found (on the next record, or by the idle-partition check) and those records are re-read.

The fault is the one the takeover defect produced, injected for real: while the worker is down, PMS events land on
``pms.reservations`` and the consumer group's offsets are committed past them on the broker. Judged on the TTLock
sandbox: every guest holds exactly one credential; and the worker counts the repaired holes.
"""

from __future__ import annotations

import asyncio
import re
import time

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.partitioner import DefaultPartitioner

from tests.pipeline import Pipeline, distinct

ROOMS = 60
PARTITIONS = 4
pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(300),
              pytest.mark.pipeline(rooms=ROOMS)]


async def commit_past_everything(pipeline: Pipeline, topic: str, timeout_s: float = 90) -> dict[int, int]:
    """Commit the worker's group offsets of ``topic`` at the end of every partition, as Faust did across a seek.
    The broker takes a commit from outside the group only once the group is empty (the killed worker's session
    has expired), so this waits for that first."""
    admin = AIOKafkaAdminClient(bootstrap_servers=pipeline.stack.kafka_bootstrap)
    await admin.start()
    deadline, state = time.monotonic() + timeout_s, "?"
    try:
        while state != "Empty":
            assert time.monotonic() < deadline, f"the killed worker's group never emptied (state {state})"
            await asyncio.sleep(1)
            state = (await admin.describe_consumer_groups([pipeline.app_id]))[0].groups[0][2]
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(bootstrap_servers=pipeline.stack.kafka_bootstrap, group_id=pipeline.app_id,
                                enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or {0, 1, 2, 3})]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        await consumer.commit(dict(ends))
        return {tp.partition: end for tp, end in ends.items()}
    finally:
        await consumer.stop()


async def repaired_holes(pipeline: Pipeline, topic: str) -> float:
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"http://127.0.0.1:{pipeline.metrics_port}/metrics")).text
    found = re.search(rf'^lis_stream_gaps_total{{topic="{re.escape(topic)}"}} (\S+)$', text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def wait_for_worker(pipeline: Pipeline, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient() as http:
        while time.monotonic() < deadline:
            try:
                if (await http.get(f"http://127.0.0.1:{pipeline.metrics_port}/metrics")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.5)
    raise AssertionError("the worker's web server never answered")


def one_room_per_partition(pipeline: Pipeline, candidates: range) -> list[int]:
    """Room numbers whose reservations land one on each partition of ``pms.reservations`` (the producer's
    partitioner)."""
    chosen: dict[int, int] = {}
    for n in candidates:
        key = pipeline.confirmations([n])[0].stay_id.encode()
        chosen.setdefault(DefaultPartitioner()(key, list(range(PARTITIONS)), list(range(PARTITIONS))), n)
    assert len(chosen) == PARTITIONS, f"rooms {candidates} do not reach every partition: {chosen}"
    return sorted(chosen.values())


async def run_commit_past(pipeline: Pipeline, *, publish_after_restart: bool) -> None:
    first, hidden = range(1, 9), range(9, 21)
    await pipeline.publish(pipeline.confirmations(first))
    await pipeline.read("lock.events", until=lambda rs: len(distinct(rs, "key.issued")) >= len(first))
    pipeline.kill_worker(pipeline.workers[-1])
    await pipeline.publish(pipeline.confirmations(hidden))
    topic = pipeline.topic("pms.reservations")
    print(f"committed past the hidden confirmations:\n{await commit_past_everything(pipeline, topic)}")
    pipeline.start_worker()
    await wait_for_worker(pipeline)
    rooms = [*first, *hidden]
    if publish_after_restart:  # one later confirmation on every partition, so the next record finds each hole
        later = one_room_per_partition(pipeline, range(21, ROOMS + 1))
        await pipeline.publish(pipeline.confirmations(later))
        rooms += later
    events = await pipeline.read("lock.events", until=lambda rs: len(distinct(rs, "key.issued")) >= len(rooms),
                                 timeout_s=120)
    held = await pipeline.sandbox_credentials()
    counts = {f"door-{n}": len(held[f"door-{n}"]) for n in rooms}
    holes = await repaired_holes(pipeline, topic)
    print(f"issued={len(distinct(events, 'key.issued'))} holes repaired={holes} "
          f"missing={[k for k, n in counts.items() if n == 0]}")
    assert [k for k, n in counts.items() if n != 1] == [], f"not exactly one credential: {counts}"
    assert holes >= 1, "the keys came back but the worker counted no repaired hole: was the fault injected?"


# The idle check never runs: the next record finds it.
@pytest.mark.parametrize("pipeline", [{"worker_env": {"LIS_CONTINUITY_SCAN_S": "600"}}], indirect=True)
async def test_a_hole_committed_past_is_found_by_the_next_record_and_re_read(pipeline: Pipeline) -> None:
    await run_commit_past(pipeline, publish_after_restart=True)


@pytest.mark.parametrize("pipeline", [{"worker_env": {"LIS_CONTINUITY_SCAN_S": "1"}}], indirect=True)
async def test_a_hole_committed_past_on_an_idle_partition_is_found_by_the_ledger_check(pipeline: Pipeline) -> None:
    await run_commit_past(pipeline, publish_after_restart=False)
