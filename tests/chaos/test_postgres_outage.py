"""PostgreSQL down while reservations arrive: the worker waits it out and nothing is lost or doubled."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from app.devstack.stack import Stack
from tests.pipeline import Pipeline, distinct

ROOMS = 20
pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow, pytest.mark.pipeline(rooms=ROOMS)]


async def test_reservations_during_a_postgres_outage_are_issued_once_it_is_back(pipeline: Pipeline,
                                                                                 stack: Stack) -> None:
    assert stack.postgres is not None, "needs the project's own PostgreSQL to stop it"
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)  # a stay to come
    stack.postgres.stop_server()
    try:
        # A new property for this tenant is not in the directory cache: the worker must reach the database.
        await pipeline.publish(
            pipeline.room_event(event_id=f"c{n}", type="reservation.confirmed", reservation=f"R{n}", sequence=1,
                                occurred_at=datetime.now(UTC), rooms=[str(100 + n)], arrival=start,
                                departure=start + timedelta(days=1))
            for n in range(1, ROOMS + 1))
        await asyncio.sleep(8)
        during = await pipeline.read("lock.events", until=lambda rs: False, timeout_s=2)
        assert distinct(during, "key.issued") == {}, "nothing can be issued without the lock directory"
    finally:
        stack.postgres.start_server()
    events = await pipeline.read("lock.events", until=lambda rs: len(distinct(rs, "key.issued")) >= ROOMS)
    assert len(distinct(events, "key.issued")) == ROOMS
    assert not distinct(events, "key.issue_failed")
    held = await pipeline.sandbox_credentials()
    assert all(len(creds) == 1 for creds in held.values())
    assert pipeline.workers[-1].poll() is None, "the worker must survive the outage"
