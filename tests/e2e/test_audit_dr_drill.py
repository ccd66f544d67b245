"""The disaster-recovery drill end to end: a worker sinks audit records into a PostgreSQL with WAL archiving, a base
backup is taken, more records arrive and are anchored, the database is lost and restored to a point in time, and the
drill replays exactly the records after that point from Kafka, ending with every anchored checkpoint verified."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from adapters.postgres.audit_store import AuditStore
from adapters.postgres.migrate import migrate
from adapters.postgres.pool import create_pool
from app.devstack.postgres import PostgresServer
from app.devstack.stack import Stack
from tests.builders import stay_to_come
from tests.e2e.test_audit_trail import sunk
from tests.pipeline import Pipeline, distinct

BATCH = 4  # reservations per phase: before the backup, before the recovery point, after it
pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow,
              pytest.mark.pipeline(rooms=3 * BATCH, stack="archived_stack")]


@pytest.fixture
async def archived_stack(stack: Stack) -> AsyncIterator[Stack]:
    """A PostgreSQL of the drill's own, archiving its WAL (the drill deletes its data dir), beside the session Kafka."""
    root = Path(tempfile.mkdtemp(prefix="lis-dr-"))
    server = PostgresServer.start(root=root / "pg", archive_dir=root / "wal")
    database_url = await migrate(server.admin_url, app_password=secrets.token_hex(16))
    own = Stack(root=root, kafka_bootstrap=stack.kafka_bootstrap, database_url=database_url,
                admin_database_url=server.admin_url, postgres=server)
    try:
        yield own
    finally:
        own.stop()
        shutil.rmtree(root, ignore_errors=True)


def lis(pipeline: Pipeline, *args: str, timeout_s: float = 60) -> subprocess.CompletedProcess[str]:
    stack = pipeline.stack
    assert stack.postgres is not None
    env = stack.env(LIS_TOPIC_PREFIX=pipeline.prefix, LIS_DATA_DIR=str(stack.root / pipeline.tenant),
                    LIS_PG_DATA_DIR=str(stack.postgres.data_dir), LIS_WAL_ARCHIVE_DIR=str(stack.root / "wal"))
    done = subprocess.run([sys.executable, "-m", "app", *args], env=env, capture_output=True, text=True,
                          timeout=timeout_s)
    assert done.returncode == 0, f"lis {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done


async def confirm_and_sink(pipeline: Pipeline, store: AuditStore, rooms: range) -> list[str]:
    """Confirm a stay per room, wait for the keys and for the sink to store every audit record; leaf order ids."""
    start = stay_to_come()
    await pipeline.publish(pipeline.room_event(
        event_id=f"c{n}", type="reservation.confirmed", reservation=f"R{n}", sequence=1, occurred_at=datetime.now(UTC),
        rooms=[str(100 + n)], arrival=start, departure=start + timedelta(days=2)) for n in rooms)
    await pipeline.read("lock.events", until=lambda rs: len(distinct(rs, "key.issued")) >= rooms.stop - 1)
    return await sunk(pipeline, store)


async def test_point_in_time_restore_then_kafka_replay_ends_with_the_anchored_tree_verified(
    archived_stack: Stack, pipeline: Pipeline,  # the stack first: the pipeline fixture runs on it
) -> None:
    pool = await create_pool(pipeline.stack.database_url, max_size=2)
    try:
        store = AuditStore(pool)
        await confirm_and_sink(pipeline, store, range(1, BATCH + 1))
        lis(pipeline, "dr", "backup")
        before_point = await confirm_and_sink(pipeline, store, range(BATCH + 1, 2 * BATCH + 1))
        lis(pipeline, "audit", "checkpoint", "--tenant", pipeline.tenant)
        admin = await asyncpg.connect(pipeline.stack.admin_database_url)
        recovery_target: datetime = await admin.fetchval("SELECT clock_timestamp()")
        await admin.close()
        everything = await confirm_and_sink(pipeline, store, range(2 * BATCH + 1, 3 * BATCH + 1))
        lis(pipeline, "audit", "checkpoint", "--tenant", pipeline.tenant)
    finally:
        await pool.close()
    assert everything[: len(before_point)] == before_point
    lost = everything[len(before_point) :]
    assert len(lost) >= 2 * BATCH
    pipeline.stop()  # the audit sink must not race the drill's replay

    report_path = pipeline.stack.root / "drill.json"
    drill = lis(pipeline, "dr", "drill", "--target-time", recovery_target.isoformat(), "--report", str(report_path),
                timeout_s=150)
    print(drill.stdout)
    report = json.loads(report_path.read_text())
    [tenant] = [t for t in report["tenants"] if t["tenant"] == pipeline.tenant]
    assert report["ok"] is True
    assert datetime.fromisoformat(report["recovery_time"]) <= recovery_target
    assert (tenant["restored_size"], tenant["anchored_size"]) == (len(before_point), len(everything))
    assert tenant["restored_findings"] == [f"lost: leaf {len(before_point)}: a checkpoint of size {len(everything)} is "
                                           f"anchored but the database holds {len(before_point)} leaves: leaves "
                                           f"{len(before_point)}..{len(everything) - 1} are missing"]
    assert [r["record_id"] for r in tenant["replayed"]] == lost
    assert (tenant["final_size"], tenant["final_findings"]) == (len(everything), [])
    assert f"replayed {len(lost)} from lock.audit" in drill.stdout

    verified = lis(pipeline, "audit", "verify", "--tenant", pipeline.tenant)
    assert f"{len(everything)} leaves, 2 anchored checkpoints hold" in verified.stdout
