"""The retry timer: sends a ``RetryDue`` to ``lock.commands`` for every delayed vendor call whose time has come.

Retries go through the lock's own partition like any command, so they keep per-lock order and never block other
locks. The lock saga agent tells this module when it schedules a retry (a heap of due times, so a tick costs only
what is due); a slower full scan of the worker's table partitions catches what a restart or rebalance brought in.
The saga ignores duplicate ticks, so sending one twice is harmless.

The full scan also measures the retry depth (``lis_saga_steps_retry_pending``) and how long the oldest due retry has
waited past its time (``lis_saga_retry_oldest_overdue_seconds``), and watches for steps in flight with
no retry pending: a step is only in that state while its call is at the vendor, so one seen there scan after scan for
longer than :data:`STALL_S` is carried out by nobody. It is counted (``lis_saga_steps_stalled``) and re-driven once
with a retry tick, which the saga answers by looking on the lock and calling again; should the step still be stalled
five minutes on, ``LockStepStalled`` pages. (A tick queued behind a call that was merely slow finds the step settled
or rescheduled, and is ignored.)
"""

from __future__ import annotations

import heapq
import logging
import time
from collections import Counter
from datetime import UTC, datetime

from adapters.registry import INSTALLED
from app.domain.lock_event import RetryDue
from app.domain.lock_saga import IN_FLIGHT, LockSaga, due_retries
from app.metrics import RETRY_OVERDUE, STEPS_RETRY_PENDING, STEPS_STALLED
from app.settings import settings
from app.streams import app, lock_commands, send_model
from app.worker_state import RetryClock, StepMarker, worker_state
from tables.sagas import lock_sagas

FULL_SCAN_S = 10.0
STALL_S = 300.0  # longer than any vendor call with its quick attempts (the client timeouts are seconds)
log = logging.getLogger(__name__)


def schedule(key: str, saga: LockSaga) -> None:
    """Remember when this lock's delayed calls are due."""
    due = worker_state().retries.due
    for record in saga.credentials.values():
        if record.retry_at is not None:
            heapq.heappush(due, (record.retry_at, key))


@app.timer(interval=settings.retry_scan_s)  # type: ignore[untyped-decorator]
async def dispatch_due_retries() -> None:
    now, clock = datetime.now(UTC), worker_state().retries
    keys = set()
    while clock.due and clock.due[0][0] <= now:
        keys.add(heapq.heappop(clock.due)[1])
    for key in keys:
        raw: bytes | None = lock_sagas.get(key)
        if raw is not None:
            await _send_due(clock, key, LockSaga.model_validate_json(raw), now)


@app.timer(interval=FULL_SCAN_S)  # type: ignore[untyped-decorator]
async def rescan_for_retries() -> None:
    sagas = [(key, LockSaga.model_validate_json(raw)) for key, raw in list(lock_sagas.items())]
    for key, saga in sagas:
        schedule(key, saga)
    for key, due in observe_steps(worker_state().retries, sagas, time.monotonic(), datetime.now(UTC)):
        log.warning("lock %s, stay %s: step %s in flight with nobody carrying it out for over %.0f s: re-driving it",
                    key, due.stay, due.idempotency_key, STALL_S)
        await send_model(lock_commands, key, due)


def observe_steps(clock: RetryClock, sagas: list[tuple[str, LockSaga]], now: float,
                  wall: datetime) -> list[tuple[str, RetryDue]]:
    """Set the retry depth by vendor and the count of steps stalled in flight (seen with no retry pending, scan
    after scan, for longer than :data:`STALL_S`); the retry ticks that re-drive the newly stalled ones."""
    pending: Counter[str] = Counter()
    overdue = 0.0  # seconds the oldest due retry has waited past its time
    seen: dict[StepMarker, float] = {}
    redrives: list[tuple[str, RetryDue]] = []
    for key, saga in sagas:
        for record in saga.credentials.values():
            if record.status not in IN_FLIGHT:
                continue
            if record.retry_at is not None:
                pending[saga.lock.vendor] += 1
                overdue = max(overdue, (wall - record.retry_at).total_seconds())
                continue
            marker = (key, record.stay, record.idempotency_key, str(record.status))
            seen[marker] = clock.in_flight_since.get(marker, now)
            if now - seen[marker] > STALL_S and marker not in clock.redriven:
                clock.redriven.add(marker)
                redrives.append((key, RetryDue(lock=saga.lock, stay=record.stay, attempt=record.attempts,
                                               idempotency_key=record.idempotency_key, due_at=wall)))
    clock.in_flight_since = seen
    clock.redriven.intersection_update(seen)
    for vendor in {*INSTALLED.names, *pending}:  # zero for an installed vendor with nothing pending
        STEPS_RETRY_PENDING.labels(vendor).set(pending[vendor])
    STEPS_STALLED.set(sum(1 for since in seen.values() if now - since > STALL_S))
    RETRY_OVERDUE.set(overdue)
    return redrives


async def _send_due(clock: RetryClock, key: str, saga: LockSaga, now: datetime) -> None:
    for due in due_retries(saga, now):
        marker = (key, due.idempotency_key)
        if clock.sent.get(marker) == due.due_at:
            continue  # already sent for this very schedule (a record is rescheduled many times in its life)
        if len(clock.sent) > 100_000:
            clock.sent.clear()  # bounded memory; a repeated tick is harmless, the saga ignores it
        clock.sent[marker] = due.due_at
        await send_model(lock_commands, key, due)
