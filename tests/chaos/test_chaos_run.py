"""Chaos: 1,000 reservations (confirmations, date changes, room moves, checkouts) under three worker SIGKILLs, a
broker restart in a 3-broker cluster, and vendor 5xx and 429 bursts. The sandbox must end up holding exactly the
credentials that should exist: zero duplicates, zero missing, zero unrevoked; and the processed-offset ledger the
workers append to must hold every offset of ``pms.reservations`` and ``lock.commands`` (no record skipped by a
takeover). ``LIS_CHAOS_SEED`` picks the day (``make chaos-soak`` runs many)."""

from __future__ import annotations

import asyncio
import os
import random
import re
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from app.devstack import Stack
from app.domain.reservation import ReservationEvent
from app.domain.stay import Stay, StayStatus, step_stay
from tests.pipeline import Pipeline

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]

RESERVATIONS = 1000
SPARE_ROOMS = 100
SEED = int(os.environ.get("LIS_CHAOS_SEED", "1234"))
CHAOS_ENV = {"LIS_REPLICATION": "3", "LIS_RETRY_BASE_S": "0.5", "LIS_RETRY_CAP_S": "3", "LIS_RETRY_SCAN_S": "0.5",
             "LIS_RETRY_MAX_ATTEMPTS": "30"}


@pytest.fixture(scope="module")
async def cluster() -> AsyncIterator[Stack]:
    """Its own PostgreSQL and a 3-broker Kafka cluster, so a broker can be restarted without harming other tests."""
    stack = await Stack.start(brokers=3)
    try:
        yield stack
    finally:
        stack.stop()


def day_of_chaos(pipeline: Pipeline, rng: random.Random) -> list[list[ReservationEvent]]:
    """Three waves: confirmations; date changes and room moves; checkouts."""
    start = datetime(2026, 12, 1, 15, tzinfo=UTC)
    spare = [str(100 + RESERVATIONS + n) for n in range(1, SPARE_ROOMS + 1)]

    def event(n: int, kind: str, seq: int, **fields: object) -> ReservationEvent:
        return pipeline.room_event(event_id=f"{kind}-{n}-{seq}", type=f"reservation.{kind}", reservation=f"R{n}",
                                   sequence=seq, occurred_at=datetime.now(UTC), guest_id=f"g{n}", **fields)

    confirms, changes, checkouts = [], [], []
    for n in range(1, RESERVATIONS + 1):
        room, nights = str(100 + n), rng.randint(1, 5)
        confirms.append(event(n, "confirmed", 1, rooms=[room], arrival=start,
                              departure=start + timedelta(days=nights)))
        roll = rng.random()
        if roll < 0.2:
            changes.append(event(n, "modified", 2, rooms=[room], arrival=start,
                                 departure=start + timedelta(days=nights + 1)))
        elif roll < 0.25 and spare:
            changes.append(event(n, "modified", 2, rooms=[spare.pop()], arrival=start,
                                 departure=start + timedelta(days=nights)))
        if rng.random() < 0.5:
            checkouts.append(event(n, "checked_out", 3))
    return [confirms, changes, checkouts]


def expected_windows(pipeline: Pipeline, waves: list[list[ReservationEvent]]) -> dict[str, Counter[tuple[int, int]]]:
    """Per lock, the validity windows that must be on it at the end: the pure stay saga over the same events."""
    assert pipeline.directory is not None
    stays: dict[str, Stay] = {}
    for event in (e for wave in waves for e in wave):
        locks = pipeline.directory.locks_for_stay(event.rooms) if event.rooms else []
        stays[event.stay_id], _ = step_stay(stays.get(event.stay_id), event, locks, None)
    wanted: dict[str, Counter[tuple[int, int]]] = {lock.lock_id: Counter() for lock in pipeline.directory.locks}
    for stay in stays.values():
        if stay.status is StayStatus.ACTIVE and stay.validity is not None:
            window = (int(stay.validity.starts_at.timestamp() * 1000), int(stay.validity.ends_at.timestamp() * 1000))
            for lock in stay.locks:
                wanted[lock.lock_id][window] += 1
    return wanted


async def differences(pipeline: Pipeline, wanted: dict[str, Counter[tuple[int, int]]],
                      report: list[str] | None = None) -> dict[str, int]:
    """Duplicates, missing and unrevoked credentials on the sandbox; ``report`` collects the differing locks."""
    held = await pipeline.sandbox_credentials()
    counts = {"duplicates": 0, "missing": 0, "unrevoked": 0}
    for lock_id, expected in wanted.items():
        actual = Counter((c["startDate"], c["endDate"]) for c in held[lock_id])
        extra, absent = actual - expected, expected - actual
        counts["missing"] += sum(absent.values())
        counts["duplicates" if expected else "unrevoked"] += sum(extra.values())
        if (extra or absent) and report is not None:
            report.append(f"{lock_id}: holds {dict(actual)} ({[c.get('name') for c in held[lock_id]]}), "
                          f"expected {dict(expected)}")
    return counts


@pytest.mark.timeout(1200)
async def test_chaos_run_ends_with_exactly_the_credentials_that_should_exist(cluster: Stack) -> None:
    ledger = cluster.root / f"processed-{SEED}-{os.getpid()}.txt"
    env = {**CHAOS_ENV, "LIS_PROCESSED_LEDGER": str(ledger)}
    pipeline = await Pipeline(cluster, rooms=RESERVATIONS + SPARE_ROOMS, worker_env=env).start()
    try:
        waves = day_of_chaos(pipeline, random.Random(SEED))
        await pipeline.inject("http_5xx", rate=0.2, count=400)
        await pipeline.inject("rate_limit", rate=0.2, count=400)
        for index, wave in enumerate(waves):
            await pipeline.publish(wave)
            await asyncio.sleep(8)
            pipeline.kill_worker(pipeline.workers[-1])  # SIGKILL mid-stream, three times in all
            if index == 1:
                assert cluster.kafka is not None
                cluster.kafka.stop_broker(2)
                await asyncio.sleep(5)
                cluster.kafka.start_broker(2)
            pipeline.start_worker()
        wanted = expected_windows(pipeline, waves)
        counts = await differences(pipeline, wanted)
        deadline = asyncio.get_running_loop().time() + 420
        while any(counts.values()) and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(10)
            counts = await differences(pipeline, wanted)
            print(f"converging: {counts}", flush=True)
        report: list[str] = []
        await differences(pipeline, wanted, report)
        for line in report[:10]:
            print(f"differs: {line}")
        skipped = await pipeline.unprocessed_offsets(ledger, ["pms.reservations", "lock.commands"])
        repaired = sum(len(re.findall("over records no worker processed", log.read_text(errors="replace")))
                       for log in cluster.root.glob(f"worker-{pipeline.tenant}*.log"))
        print(f"chaos seed={SEED}: {sum(len(w) for w in waves)} PMS events; duplicates={counts['duplicates']} "
              f"missing={counts['missing']} unrevoked={counts['unrevoked']} skipped offsets={len(skipped)} "
              f"repaired jumps={repaired}")
        assert counts == {"duplicates": 0, "missing": 0, "unrevoked": 0}
        assert skipped == {}, f"offsets no worker processed: {skipped}"
    finally:
        pipeline.stop()
