"""Retries that run out end in a failure event and a dead letter, and ``lis dlq replay`` finishes the job."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from app.devstack import Stack
from tests.pipeline import Pipeline, distinct

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]

FAST_RETRIES = {"LIS_RETRY_BASE_S": "0.2", "LIS_RETRY_CAP_S": "0.5", "LIS_RETRY_MAX_ATTEMPTS": "3",
                "LIS_RETRY_SCAN_S": "0.2", "LIS_BREAKER_MIN_CALLS": "1000"}


@pytest.fixture
async def pipeline(stack: Stack) -> AsyncIterator[Pipeline]:
    running = await Pipeline(stack, rooms=3, worker_env=FAST_RETRIES).start()
    try:
        yield running
    finally:
        running.stop()


async def test_exhausted_issue_is_dead_lettered_and_replayed_once_the_vendor_is_back(pipeline: Pipeline) -> None:
    await pipeline.inject("http_5xx", rate=1.0)
    start = datetime(2026, 12, 1, 15, tzinfo=UTC)
    await pipeline.publish([pipeline.room_event(
        event_id="c1", type="reservation.confirmed", reservation="R1", sequence=1, occurred_at=datetime.now(UTC),
        rooms=["101"], arrival=start, departure=start + timedelta(days=2))])

    events = await pipeline.read("lock.events", until=lambda rs: bool(distinct(rs, "key.issue_failed")))
    (failed,) = distinct(events, "key.issue_failed").values()
    assert "vendor_unavailable" in failed["cause"]
    letters = await pipeline.read("lock.dlq", until=lambda rs: len(rs) >= 1, timeout_s=30)
    assert "issue failed after 3 attempt(s)" in letters[0]["reason"]
    assert (await pipeline.sandbox_credentials())["door-1"] == []
    (listed,) = [json.loads(line) for line in pipeline.lis("dlq", "list", "--json").splitlines()]
    assert listed["reason"].startswith("issue failed after 3")
    assert listed["source_topic"] == pipeline.topic("lock.commands")

    await pipeline.inject("clear")
    assert "replayed 1 letter(s)" in pipeline.lis("dlq", "replay", "--contains", "issue failed")
    events = await pipeline.read("lock.events", until=lambda rs: bool(distinct(rs, "key.issued")))
    assert len(distinct(events, "key.issued")) == 1
    assert len((await pipeline.sandbox_credentials())["door-1"]) == 1
