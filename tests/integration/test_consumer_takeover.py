"""A takeover's seek while the fetch loop holds a pre-seek batch: every offset is still processed by some worker.

The reproduction (``tests/integration/takeover_app.py``) runs Faust's own ``on_recovery_completed`` while the fetch
loop is blocked mid-batch — what a worker taking partitions over after a SIGKILL does when recovery ends while a
fetch is in flight. Judged by a processed-offset ledger the agent writes, once the group's committed offset has
reached the end of the topic: an offset that is committed but absent from the ledger was skipped for good.
The unpatched run shows the defect is still upstream (faust-streaming 0.15.3): when it stops losing records, the
patch can go (docs/adr/0005-faust-consumer-offsets.md).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from app.devstack.stack import Stack

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(180)]

RECORDS = 2_000
TAKEOVER_AT = 300
IDLE_S = 8.0


async def run_takeover(stack: Stack, tmp_path: Path, *, patched: bool) -> tuple[set[int], int]:
    """Run the reproduction on a fresh topic with ``RECORDS`` records; the ledger's offsets and the final commit."""
    topic, app_id = f"takeover-{uuid.uuid4().hex[:8]}", f"takeover-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 1, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        for n in range(RECORDS):
            await producer.send(topic, key=b"k", value=f"record {n}".encode())
        await producer.flush()
    finally:
        await producer.stop()
    ledger = tmp_path / f"ledger-{'patched' if patched else 'upstream'}.txt"
    env = stack.env(TAKEOVER_LEDGER=str(ledger), TAKEOVER_AT=str(TAKEOVER_AT), TAKEOVER_APP_ID=app_id,
                    TAKEOVER_TOPIC=topic, TAKEOVER_DATA_DIR=str(tmp_path / "faust"),
                    TAKEOVER_PATCH="1" if patched else "0")
    log = (tmp_path / f"worker-{'patched' if patched else 'upstream'}.log").open("wb")
    command = [sys.executable, "-m", "tests.integration.takeover_app", "worker", "-l", "warn", "--without-web"]
    worker = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,  # noqa: ASYNC220
                              start_new_session=True)
    try:
        committed = await settled_commit(stack, app_id, topic, ledger)
    finally:
        worker.kill()
        worker.wait(timeout=30)
        log.close()
    return ledger_offsets(ledger), committed


def ledger_offsets(ledger: Path) -> set[int]:
    if not ledger.exists():
        return set()
    return {int(line.split()[1]) for line in ledger.read_text().splitlines() if line.strip()}


async def settled_commit(stack: Stack, group: str, topic: str, ledger: Path, *, timeout_s: float = 120) -> int:
    """The group's committed offset once it reaches the end of the topic, or once neither it nor the ledger has
    moved for ``IDLE_S`` (the worker has nothing left to do)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap)
    await admin.start()
    deadline = time.monotonic() + timeout_s
    committed, last, idle_since = -1, (-1, -1), time.monotonic()
    try:
        while time.monotonic() < deadline and committed < RECORDS:
            try:
                offsets = await admin.list_consumer_group_offsets(group)
            except KafkaError:  # the group's coordinator is not elected yet on a fresh broker
                offsets = {}
            meta = offsets.get(TopicPartition(topic, 0))
            committed = meta.offset if meta is not None else committed
            now = (committed, len(ledger_offsets(ledger)))
            if now != last:
                last, idle_since = now, time.monotonic()
            elif now[1] > TAKEOVER_AT and time.monotonic() - idle_since > IDLE_S:
                break
            await asyncio.sleep(0.5)
    finally:
        await admin.close()
    return committed


async def test_a_takeover_seek_with_a_pre_seek_batch_in_flight_skips_no_offset(stack: Stack, tmp_path: Path) -> None:
    offsets, committed = await run_takeover(stack, tmp_path, patched=True)
    never_processed = sorted(set(range(RECORDS)) - offsets)
    print(f"patched: committed={committed} processed={len(offsets)} never processed={len(never_processed)}")
    assert never_processed == [], f"{len(never_processed)} offsets no worker processed: {never_processed[:10]}"
    assert committed == RECORDS, "the worker processed everything but its commit is stuck behind it"


async def test_the_reproduction_still_loses_offsets_on_unpatched_faust(stack: Stack, tmp_path: Path) -> None:
    """Keeps the reproduction honest: it must show the upstream defect. When this fails, upstream fixed it."""
    offsets, committed = await run_takeover(stack, tmp_path, patched=False)
    never_processed = sorted(set(range(RECORDS)) - offsets)
    print(f"upstream: committed={committed} processed={len(offsets)} never processed={len(never_processed)} "
          f"{never_processed[:10]}")
    assert never_processed, "unpatched faust-streaming lost nothing: upstream fixed it, see ADR-0005"
