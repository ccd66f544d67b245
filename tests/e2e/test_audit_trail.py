"""The audit trail end to end: a real worker sinks lock.audit into PostgreSQL once per record id, in topic order,
even across a SIGKILL; its timer anchors signed checkpoints; the CLI proves and verifies against them."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from adapters.postgres.audit_store import AuditStore
from adapters.postgres.pool import create_pool
from app.audit.checkpoint import open_checkpoint, parse_vkey
from app.audit.leaves import audit_leaf
from app.audit.merkle import leaf_hash, verify_inclusion
from app.domain.reservation import ReservationEvent
from app.topic_io import read_topic
from tests.builders import stay_to_come
from tests.pipeline import Pipeline, distinct

ROOMS = 20
# LIS_AUDIT_CHECKPOINT_S: the worker's checkpoint timer, fast enough for a test.
pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow,
              pytest.mark.pipeline(rooms=ROOMS, worker_env={"LIS_AUDIT_CHECKPOINT_S": "2"})]


def lis(pipeline: Pipeline, *args: str) -> subprocess.CompletedProcess[str]:
    env = pipeline.stack.env(LIS_TOPIC_PREFIX=pipeline.prefix, LIS_DATA_DIR=str(pipeline.stack.root / pipeline.tenant))
    return subprocess.run([sys.executable, "-m", "app", *args], env=env, capture_output=True, text=True, timeout=60)


async def published_ids(pipeline: Pipeline) -> list[str]:
    """Audit record ids on lock.audit in topic order, first occurrence only: the order the leaves must have."""
    ids: list[str] = []
    for record in await read_topic(pipeline.stack.kafka_bootstrap, pipeline.topic("lock.audit")):
        with contextlib.suppress(ValueError):
            ids.append(audit_leaf(record.value).record_id)
    return list(dict.fromkeys(ids))


async def sunk(pipeline: Pipeline, store: AuditStore, *, timeout_s: float = 60) -> list[str]:
    """Wait until every published record is a leaf; the stored record ids in leaf order."""
    deadline = time.monotonic() + timeout_s
    while True:
        expected = await published_ids(pipeline)
        stored = [row.record_id async for row in store.leaves(pipeline.tenant)]
        if (expected and stored == expected) or time.monotonic() > deadline:
            return stored
        await asyncio.sleep(0.5)


async def anchored_notes(pipeline: Pipeline, size: int, *, timeout_s: float = 30) -> list[str]:
    """Wait for the worker's timer to anchor a checkpoint of ``size`` leaves; every note on the anchors topic."""
    deadline = time.monotonic() + timeout_s
    while True:
        records = await read_topic(pipeline.stack.kafka_bootstrap, pipeline.topic("lock.audit-anchors"))
        notes = [r.value.decode() for r in records]
        if f"\n{size}\n" in (notes[-1] if notes else "") or time.monotonic() > deadline:
            return notes
        await asyncio.sleep(0.5)


async def worker_metrics(pipeline: Pipeline, *, until: str, timeout_s: float = 15) -> str:
    """The worker's metrics once they show ``until`` (the gauge is set just after the anchor is sent), or at the
    deadline."""
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient() as http:
        while True:
            text = (await http.get(f"http://127.0.0.1:{pipeline.metrics_port}/metrics")).text
            if until in text or time.monotonic() > deadline:
                return text
            await asyncio.sleep(0.5)


async def publish_audit(pipeline: Pipeline, value: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=pipeline.stack.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(pipeline.topic("lock.audit"), key=pipeline.tenant.encode(), value=value)
    finally:
        await producer.stop()


def confirmations(pipeline: Pipeline) -> list[ReservationEvent]:
    start = stay_to_come()
    return [pipeline.room_event(event_id=f"c{n}", type="reservation.confirmed", reservation=f"R{n}", sequence=1,
                                occurred_at=datetime.now(UTC), rooms=[str(100 + n)], arrival=start,
                                departure=start + timedelta(days=2)) for n in range(1, ROOMS + 1)]


def checkouts(pipeline: Pipeline) -> list[ReservationEvent]:
    return [pipeline.room_event(event_id=f"o{n}", type="reservation.checked_out", reservation=f"R{n}", sequence=2,
                                occurred_at=datetime.now(UTC)) for n in range(1, ROOMS + 1)]


async def test_audit_records_become_leaves_once_in_topic_order_and_anchored_checkpoints_prove_them(
    pipeline: Pipeline,
) -> None:
    pool = await create_pool(pipeline.stack.database_url, max_size=2)
    store = AuditStore(pool)
    try:
        await pipeline.publish(confirmations(pipeline))
        await publish_audit(pipeline, b'{"record_id": "not-an-audit-record"}')
        await pipeline.read("lock.events", until=lambda rs: len(distinct(rs, "key.issued")) >= ROOMS)
        stored = await sunk(pipeline, store)
        assert stored == await published_ids(pipeline)
        assert len(stored) >= 2 * ROOMS  # a decision and an outcome per key at least

        await pipeline.publish(checkouts(pipeline))
        await pipeline.read("lock.audit", until=lambda rs: len(rs) >= len(stored) + 5)
        pipeline.kill_worker(pipeline.workers[-1])  # mid-stream: its last batches are redelivered
        at_kill = len([row async for row in store.leaves(pipeline.tenant)])
        pipeline.start_worker()
        await pipeline.read("lock.events", until=lambda rs: len(distinct(rs, "key.revoked")) >= ROOMS)
        stored = await sunk(pipeline, store)
        assert at_kill < len(stored), "the worker finished before it was killed: the test proved nothing"
        assert stored == await published_ids(pipeline), "a record stored twice, lost or out of topic order"
        letters = await pipeline.read("lock.dlq", until=lambda rs: len(rs) >= 1)
        # Dead letters are at-least-once: the kill may redeliver the malformed record, never turn it into another.
        assert {(r["reason"].split(":")[0], r["value"]) for r in letters} == {
            ("malformed audit record", '{"record_id": "not-an-audit-record"}')}

        notes = await anchored_notes(pipeline, len(stored))
        anchored = f'lis_audit_unanchored_since_timestamp_seconds{{tenant="{pipeline.tenant}"}} 0.0'
        metrics = await worker_metrics(pipeline, until=anchored)
        lag = await worker_metrics(pipeline, until='lis_consumer_lag{partition="0",topic="lock.audit"}', timeout_s=30)
    finally:
        await pool.close()
    tenant = f'tenant="{pipeline.tenant}"'
    assert f'lis_audit_checkpoints_total{{outcome="published",{tenant}}}' in metrics, "checkpoints are counted"
    assert anchored in metrics, "the whole tree is anchored, so nothing is left unanchored"
    assert 'lis_consumer_lag{partition="0",topic="lock.audit"}' in lag, "the worker exports its group's lag"
    assert re.search(rf"lis_audit_leaves_stored_total\{{{tenant}\}} [1-9]", metrics), "stored leaves are counted"

    verified = lis(pipeline, "audit", "verify", "--tenant", pipeline.tenant)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"{pipeline.tenant}: {len(stored)} leaves, {len(notes)} anchored checkpoints hold" in verified.stdout

    vkeys = [parse_vkey(line) for line in lis(pipeline, "audit", "public-keys").stdout.split()]
    latest = open_checkpoint(notes[-1], vkeys)
    assert latest.size == len(stored), "the worker's timer did not anchor the whole tree"
    proved = lis(pipeline, "audit", "prove", "--tenant", pipeline.tenant, "--record", stored[7])
    assert proved.returncode == 0, proved.stderr
    proof = json.loads(proved.stdout)
    assert (proof["leaf_index"], proof["tree_size"], proof["anchored"]) == (7, latest.size, True)
    verify_inclusion(leaf_hash(proof["leaf"].encode()), 7, latest.size,
                     [base64.b64decode(p) for p in proof["inclusion_proof"]], latest.root_hash)
    consistent = lis(pipeline, "audit", "prove", "--tenant", pipeline.tenant, "--from", "3", "--to", str(latest.size))
    assert consistent.returncode == 0, consistent.stderr
    assert json.loads(consistent.stdout)["root_to"] == base64.b64encode(latest.root_hash).decode()
