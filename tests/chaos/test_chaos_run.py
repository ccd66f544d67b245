"""Chaos: 1,000 reservations (confirmations, date changes, room moves, checkouts) on Salto, Generic Wiegand and TTLock
locks mixed — passcodes, cards and mobile keys — under 10 % executed-then-lost answers, 5 % duplicate deliveries,
20 % 5xx and 429 bursts, three worker SIGKILLs while the journals show sagas mid-flight, and a broker restart in a
3-broker cluster. Judged on the vendor side by the history checker (``tests/checker.py``) over the sandboxes'
journals: zero duplicates, missing, unrevoked, orphans and shared card numbers, every window right; and the
processed-offset ledger the workers append to must hold every offset of ``pms.reservations`` and ``lock.commands``
(no record skipped by a takeover). ``LIS_CHAOS_SEED`` picks the day (``make chaos-soak`` runs many)."""

from __future__ import annotations

import asyncio
import os
import random
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from app.devstack.stack import Stack
from app.domain.credential import VendorName
from app.domain.reservation import ReservationEvent
from tests.pipeline import Pipeline

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]

RESERVATIONS = 1000
SALTO_ROOMS, WIEGAND_ROOMS, SPARE_ROOMS = 100, 100, 100  # rooms 101-200 Salto, 201-300 Wiegand, the rest TTLock
SEED = int(os.environ.get("LIS_CHAOS_SEED", "1234"))
CHAOS_ENV = {"LIS_REPLICATION": "3", "LIS_RETRY_BASE_S": "0.5", "LIS_RETRY_CAP_S": "3", "LIS_RETRY_SCAN_S": "0.5",
             "LIS_RETRY_MAX_ATTEMPTS": "30", "LIS_RECONCILE_S": "60"}  # anti-entropy removes duplicate deliveries
VENDOR_TIMEOUT_S = 1.0
LOST_ANSWER_MS = 1500  # an executed-then-timeout answer comes after the client gave up
CONVERGE_S = 600


@pytest.fixture(scope="module")
async def cluster() -> AsyncIterator[Stack]:
    """Its own PostgreSQL and a 3-broker Kafka cluster, so a broker can be restarted without harming other tests."""
    stack = await Stack.start(brokers=3)
    try:
        yield stack
    finally:
        stack.stop()


def credential_of(n: int, vendor: VendorName) -> dict[str, str]:
    """Wiegand guests get cards; on Salto one in ten a mobile key (to a phone), on TTLock one in ten a card and one
    in ten a mobile key (to the guest's TTLock app account); the rest PINs."""
    if vendor == "wiegand" or (vendor == "ttlock" and n % 10 == 0):
        return {"credential_kind": "card"}
    if n % 10 == 1:
        account = f"+49151{n:07d}" if vendor == "salto" else f"guest-{n}@example.com"
        return {"credential_kind": "mobile_key", "mobile_key_account": account}
    return {}


def day_of_chaos(pipeline: Pipeline, rng: random.Random) -> list[list[ReservationEvent]]:
    """Three waves: confirmations; date changes and room moves (to spare TTLock rooms); checkouts. A Wiegand card's
    window is on the card, so Wiegand stays change rooms but not dates."""
    assert pipeline.directory is not None
    vendor_of = {lock.room: lock.vendor for lock in pipeline.directory.locks}
    # Stays from the next full hour on: every one still running while the test runs (an expired card is not listed).
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    spare = [str(100 + RESERVATIONS + n) for n in range(1, SPARE_ROOMS + 1)]

    def event(n: int, kind: str, seq: int, **fields: object) -> ReservationEvent:
        return pipeline.room_event(event_id=f"{kind}-{n}-{seq}", type=f"reservation.{kind}", reservation=f"R{n}",
                                   sequence=seq, occurred_at=datetime.now(UTC), guest_id=f"g{n}", **fields)

    confirms, changes, checkouts = [], [], []
    for n in range(1, RESERVATIONS + 1):
        room, nights = str(100 + n), rng.randint(1, 5)
        credential = credential_of(n, vendor_of[room])
        confirms.append(event(n, "confirmed", 1, rooms=[room], arrival=start,
                              departure=start + timedelta(days=nights), **credential))
        roll = rng.random()
        if roll < 0.2 and vendor_of[room] != "wiegand":
            changes.append(event(n, "modified", 2, rooms=[room], arrival=start,
                                 departure=start + timedelta(days=nights + 1), **credential))
        elif 0.2 <= roll < 0.25 and spare:
            changes.append(event(n, "modified", 2, rooms=[spare.pop()], arrival=start,
                                 departure=start + timedelta(days=nights), **credential))
        if rng.random() < 0.5:
            checkouts.append(event(n, "checked_out", 3))
    return [confirms, changes, checkouts]


async def arm_faults(pipeline: Pipeline) -> None:
    """Ambiguous outcomes on every vendor; 5xx and 429 bursts where the vendor speaks HTTP."""
    for vendor in ("ttlock", "salto", "wiegand"):
        await pipeline.inject("executed_then_timeout", vendor=vendor, rate=0.1, latency_ms=LOST_ANSWER_MS)
        await pipeline.inject("duplicate_delivery", vendor=vendor, rate=0.05)
    for vendor in ("ttlock", "salto"):
        await pipeline.inject("http_5xx", vendor=vendor, rate=0.2, count=300)
        await pipeline.inject("rate_limit", vendor=vendor, rate=0.2, count=300)


async def applied_since(pipeline: Pipeline, op: str, since_ms: float) -> int:
    """Journal entries of kind ``op`` (issue, update, revoke) the sandboxes applied since ``since_ms``."""
    journals = [await pipeline.journal(vendor) for vendor in ("ttlock", "salto", "wiegand")]
    return sum(1 for journal in journals for entry in journal if entry["op"] == op and entry["at"] >= since_ms)


async def kill_mid_flight(pipeline: Pipeline, op: str, threshold: int, since_ms: float) -> int:
    """SIGKILL the worker once the journals show ``threshold`` of this wave's changes applied — its sagas are in
    flight then (a wave's own kind of change: issues, updates or revokes); how many there were at the kill."""
    applied = 0
    for _ in range(600):
        applied = await applied_since(pipeline, op, since_ms)
        if applied >= threshold:
            break
        await asyncio.sleep(0.2)
    pipeline.kill_worker(pipeline.workers[-1])
    return applied


@pytest.mark.xfail(strict=False, reason=(
    "kept until a 20-run soak (make chaos-soak, which judges it strictly) confirms the fix: runs on 99e14b4 and "
    "293240b ended with one TTLock door still holding a checked-out stay's credential — the issue's retry tick, "
    "re-delivered after its step died mid-call, was ignored, so the issue stayed in flight for ever with the revoke "
    "queued behind it (issue 20). Fixed in 317c0ee, reproduced on purpose by test_a_worker_killed_during_a_retried_"
    "call_still_revokes_the_checkout_queued_behind_it; 2 of 2 runs green since"))
@pytest.mark.timeout(1500)
async def test_chaos_run_ends_with_exactly_the_credentials_that_should_exist(cluster: Stack) -> None:
    ledger = cluster.root / f"processed-{SEED}-{os.getpid()}.txt"
    env = {**CHAOS_ENV, "LIS_PROCESSED_LEDGER": str(ledger)}
    pipeline = await Pipeline(cluster, rooms=RESERVATIONS + SPARE_ROOMS, salto_rooms=SALTO_ROOMS,
                              wiegand_rooms=WIEGAND_ROOMS, vendor_timeout_s=VENDOR_TIMEOUT_S, worker_env=env).start()
    try:
        waves = day_of_chaos(pipeline, random.Random(SEED))
        await arm_faults(pipeline)
        date_changes = sum(1 for e in waves[1] if e.rooms and str(100 + int(e.reservation[1:])) in e.rooms)
        plans = [("issue", len(waves[0]) // 6), ("update", max(1, date_changes // 4)), ("revoke", len(waves[2]) // 6)]
        for index, (wave, (op, threshold)) in enumerate(zip(waves, plans, strict=True)):
            published_ms = time.time() * 1000
            await pipeline.publish(wave)
            applied = await kill_mid_flight(pipeline, op, threshold, published_ms)
            print(f"wave {index + 1}: {len(wave)} events, killed with {applied} {op}s applied since it was sent "
                  f"(aimed at {threshold})", flush=True)
            if index == 1:
                assert cluster.kafka is not None
                cluster.kafka.stop_broker(2)
                await asyncio.sleep(5)
                cluster.kafka.start_broker(2)
            pipeline.start_worker()
        events = [event for wave in waves for event in wave]
        report = await pipeline.history(events)
        deadline = asyncio.get_running_loop().time() + CONVERGE_S
        while not report.clean and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(10)
            report = await pipeline.history(events)
            print(f"converging: {report.summary(lines=0)}", flush=True)
        skipped = await pipeline.unprocessed_offsets(ledger, ["pms.reservations", "lock.commands"])
        repaired = sum(len(re.findall("over records no worker processed", log.read_text(errors="replace")))
                       for log in cluster.root.glob(f"worker-{pipeline.tenant}*.log"))
        counts = " ".join(f"{name}={value}" for name, value in report.counts.items())
        print(f"chaos seed={SEED}: {len(events)} PMS events; {counts} skipped offsets={len(skipped)} "
              f"repaired jumps={repaired}")
        print(report.summary(lines=10))
        assert report.clean, report.summary()
        assert skipped == {}, f"offsets no worker processed: {skipped}"
    finally:
        pipeline.stop()
