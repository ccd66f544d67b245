"""The audit sink rides out a PostgreSQL outage: the batch waits, retried, and is stored once the server is back."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.postgres.audit_store import AuditStore
from adapters.postgres.migrate import migrate
from adapters.postgres.pool import create_pool
from agents import audit_sink
from app.devstack.postgres import PostgresServer
from app.worker_state import AuditSinkState, WorkerState, install
from tests.unit.test_audit_leaves import leaves_of, published_record

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[PostgresServer]:
    """A PostgreSQL of the test's own, since it is stopped mid-test."""
    running = PostgresServer.start(root=tmp_path / "pg")
    yield running
    running.stop()


async def test_a_batch_waits_for_postgresql_and_is_stored_once_it_is_back(server: PostgresServer) -> None:
    pool = await create_pool(await migrate(server.admin_url, app_password=secrets.token_hex(16)), max_size=2)
    store = AuditStore(pool)
    state = WorkerState(audit=AuditSinkState(store=store))
    install(state)
    try:
        await store.append("outage", leaves_of("outage", 2))
        await asyncio.to_thread(server.stop_server)
        batch = [published_record("outage", n) for n in range(6)]  # two already stored, as after a redelivery
        sinking = asyncio.create_task(audit_sink.sink_batch(batch))
        await asyncio.sleep(3)
        assert not sinking.done(), "the batch was given up (or stored) while PostgreSQL was down"
        await asyncio.to_thread(server.start_server)
        await asyncio.wait_for(sinking, timeout=60)
        stored = [row.record_id async for row in store.leaves("outage")]
        assert stored == [leaf.record_id for leaf in leaves_of("outage", 6)]
        assert state.audit.to_checkpoint == {"outage"}
    finally:
        install(None)
        await pool.close()
