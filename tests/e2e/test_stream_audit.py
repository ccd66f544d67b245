"""``lis audit-stream``: the PMS input against the stay and lock saga tables, read from the topics themselves.

The fault is injected on the broker: while the worker is down, one stay record and one lock saga record are
deleted from their tables' changelogs (tombstones) and the worker's local state is wiped, so it recovers the tables
without them — state lost behind the service's back. The audit must name exactly those two, re-drive them, and the
TTLock sandbox must still hold exactly one credential per guest afterwards (the lock saga adopts the credential it
finds under its label).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import time

import pytest
from aiokafka import AIOKafkaProducer

from app.topic_io import read_topic
from tests.pipeline import Pipeline, distinct

ROOMS = 6
pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(300),
              pytest.mark.pipeline(rooms=ROOMS)]


def audit_stream(pipeline: Pipeline, *args: str) -> subprocess.CompletedProcess[str]:
    env = pipeline.stack.env(LIS_TOPIC_PREFIX=pipeline.prefix, LIS_APP_ID=pipeline.app_id)
    return subprocess.run([sys.executable, "-m", "app", "audit-stream", "--tenant", pipeline.tenant, *args],
                          env=env, capture_output=True, text=True, timeout=180, check=False)


async def tombstone(pipeline: Pipeline, table: str, key: str) -> None:
    """Delete ``key`` from a table's changelog: a tombstone on the partition that holds the key (Faust writes a
    table's string keys as JSON strings, on the partition of the record that changed them)."""
    topic, wire_key = f"{pipeline.app_id}-{table}-changelog", json.dumps(key)
    [partition] = {r.partition for r in await read_topic(pipeline.stack.kafka_bootstrap, topic) if r.key == wire_key}
    producer = AIOKafkaProducer(bootstrap_servers=pipeline.stack.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, key=wire_key.encode(), value=None, partition=partition)
    finally:
        await producer.stop()


async def test_audit_stream_finds_and_re_drives_state_lost_behind_the_services_back(pipeline: Pipeline) -> None:
    await pipeline.publish(pipeline.confirmations(range(1, ROOMS + 1)))
    await pipeline.read("lock.events", until=lambda rs: len(distinct(rs, "key.issued")) >= ROOMS)
    clean = await asyncio.to_thread(audit_stream, pipeline, "--dry-run")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert f"{ROOMS} stays checked, 0 differences" in clean.stdout

    pipeline.kill_worker(pipeline.workers[-1])
    await tombstone(pipeline, "stays", f"{pipeline.tenant}/p1/R2")
    await tombstone(pipeline, "lock_sagas", f"{pipeline.tenant}/eu-west/door-3")
    shutil.rmtree(pipeline.stack.root / pipeline.tenant)  # the worker recovers its tables from the changelogs
    pipeline.start_worker()

    found = await asyncio.to_thread(audit_stream, pipeline, "--dry-run")
    print(found.stdout)
    assert found.returncode == 1
    assert f"{pipeline.tenant}/p1/R2: no stay record" in found.stdout
    assert f"{pipeline.tenant}/p1/R3: active stay without a saga record on its lock" in found.stdout
    assert "2 differences; re-drive nothing (dry run)" in found.stdout

    redriven = await asyncio.to_thread(audit_stream, pipeline)
    assert redriven.returncode == 1, redriven.stdout
    assert "2 differences; re-drove them" in redriven.stdout
    deadline, after = time.monotonic() + 90, redriven
    while after.returncode != 0 and time.monotonic() < deadline:
        await asyncio.sleep(3)
        after = await asyncio.to_thread(audit_stream, pipeline, "--dry-run")
    assert after.returncode == 0, f"still different after the re-drive: {after.stdout}"
    held = await pipeline.sandbox_credentials()
    assert {lock_id: len(creds) for lock_id, creds in held.items()} == {f"door-{n}": 1 for n in range(1, ROOMS + 1)}
