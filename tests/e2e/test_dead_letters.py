"""Retries that run out end in a failure event and a dead letter, and ``lis dlq replay`` finishes the job."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.builders import stay_to_come
from tests.pipeline import Pipeline, distinct, fast_retries

FAST_RETRIES = fast_retries(LIS_RETRY_MAX_ATTEMPTS="3", LIS_BREAKER_MIN_CALLS="1000")
pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow,
              pytest.mark.pipeline(rooms=3, worker_env=FAST_RETRIES)]


async def test_exhausted_issue_is_dead_lettered_and_replayed_once_the_vendor_is_back(pipeline: Pipeline) -> None:
    await pipeline.inject("http_5xx", rate=1.0)
    start = stay_to_come()
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


async def test_a_partial_booking_keys_its_known_room_and_an_unknown_checkout_is_dead_lettered(
    pipeline: Pipeline,
) -> None:
    """Room 999 has no lock: room 101 of the same booking still gets its key and the letter names both; a checkout
    of a reservation never seen is a dead letter, not silence."""
    start = stay_to_come()
    booking = pipeline.room_event(event_id="c1", type="reservation.confirmed", reservation="R1", sequence=1,
                                  occurred_at=datetime.now(UTC), rooms=["101", "999"], arrival=start,
                                  departure=start + timedelta(days=2))
    stranger = pipeline.room_event(event_id="o9", type="reservation.checked_out", reservation="R9", sequence=2,
                                   occurred_at=datetime.now(UTC))
    await pipeline.publish([booking, stranger])

    await pipeline.read("lock.events", until=lambda rs: bool(distinct(rs, "key.issued")))
    report = await pipeline.settled_history([booking, stranger])  # the unknown room has no lock to judge
    assert report.clean, report.summary()
    letters = await pipeline.read("lock.dlq", until=lambda rs: len(rs) >= 2, timeout_s=30)
    reasons = sorted(letter["reason"] for letter in letters)
    assert reasons[0].startswith("rooms without locks: ['999']; rooms ['101'] of reservation R1 were keyed")
    assert reasons[1].startswith(f"unknown reservation: reservation.checked_out for {stranger.stay_id}")
    assert {letter["source_offset"] is not None for letter in letters} == {True}
