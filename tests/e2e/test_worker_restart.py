"""A worker killed mid-stream and started again: no credential issued twice, none lost, no revoke forgotten."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.pipeline import Pipeline, distinct

ROOMS = 100
pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow, pytest.mark.pipeline(rooms=ROOMS)]


async def test_worker_killed_mid_stream_neither_duplicates_nor_loses_a_credential(pipeline: Pipeline) -> None:
    start = datetime(2026, 12, 1, 15, tzinfo=UTC)
    await pipeline.publish(
        pipeline.room_event(event_id=f"c{n}", type="reservation.confirmed", reservation=f"R{n}", sequence=1,
                            occurred_at=datetime.now(UTC), rooms=[str(100 + n)], arrival=start,
                            departure=start + timedelta(days=2))
        for n in range(1, ROOMS + 1))
    partial = await pipeline.read("lock.events", until=lambda rs: len(rs) >= 20)
    pipeline.kill_worker(pipeline.workers[-1])
    killed_after = len(distinct(partial, "key.issued"))
    assert killed_after < ROOMS, "the worker finished before it was killed: the test proved nothing"
    pipeline.start_worker()

    events = await pipeline.read("lock.events", until=lambda rs: len(distinct(rs, "key.issued")) >= ROOMS,
                                 timeout_s=180)
    assert len(distinct(events, "key.issued")) == ROOMS
    held = await pipeline.sandbox_credentials()
    counts = {lock_id: len(creds) for lock_id, creds in held.items()}
    duplicates = {k: n for k, n in counts.items() if n > 1}
    missing = [k for k, n in counts.items() if n == 0]
    print(f"killed after {killed_after} issued; duplicates={len(duplicates)} missing={len(missing)}")
    assert duplicates == {}
    assert missing == []

    await pipeline.publish(
        pipeline.room_event(event_id=f"o{n}", type="reservation.checked_out", reservation=f"R{n}", sequence=2,
                            occurred_at=datetime.now(UTC))
        for n in range(1, ROOMS + 1))
    await pipeline.read("lock.events", until=lambda rs: len(distinct(rs, "key.revoked")) >= 20)
    pipeline.kill_worker(pipeline.workers[-1])
    pipeline.start_worker()
    events = await pipeline.read("lock.events", until=lambda rs: len(distinct(rs, "key.revoked")) >= ROOMS,
                                 timeout_s=180)
    assert len(distinct(events, "key.revoked")) == ROOMS
    held = await pipeline.sandbox_credentials()
    unrevoked = [lock_id for lock_id, creds in held.items() if creds]
    print(f"after the second kill: unrevoked={len(unrevoked)}")
    assert unrevoked == []
