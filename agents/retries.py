"""The retry timer: sends a ``RetryDue`` to ``lock.commands`` for every delayed vendor call whose time has come.

Retries go through the lock's own partition like any command, so they keep per-lock order and never block other
locks. The lock saga agent tells this module when it schedules a retry (a heap of due times, so a tick costs only
what is due); a slower full scan of the worker's table partitions catches what a restart or rebalance brought in.
The saga ignores duplicate ticks, so sending one twice is harmless.
"""

from __future__ import annotations

import heapq
from datetime import UTC, datetime

from app.domain.lock_saga import LockSaga, due_retries
from app.settings import settings
from app.streams import app, lock_commands, send_model
from tables.sagas import lock_sagas

_due: list[tuple[datetime, str]] = []
_sent: dict[tuple[str, str], datetime] = {}
FULL_SCAN_S = 10.0


def schedule(key: str, saga: LockSaga) -> None:
    """Remember when this lock's delayed calls are due."""
    for record in saga.credentials.values():
        if record.retry_at is not None:
            heapq.heappush(_due, (record.retry_at, key))


@app.timer(interval=settings.retry_scan_s)  # type: ignore[untyped-decorator]
async def dispatch_due_retries() -> None:
    now = datetime.now(UTC)
    keys = set()
    while _due and _due[0][0] <= now:
        keys.add(heapq.heappop(_due)[1])
    for key in keys:
        raw: bytes | None = lock_sagas.get(key)
        if raw is not None:
            await _send_due(key, LockSaga.model_validate_json(raw), now)


@app.timer(interval=FULL_SCAN_S)  # type: ignore[untyped-decorator]
async def rescan_for_retries() -> None:
    for key, raw in list(lock_sagas.items()):
        schedule(key, LockSaga.model_validate_json(raw))


async def _send_due(key: str, saga: LockSaga, now: datetime) -> None:
    for due in due_retries(saga, now):
        marker = (key, due.idempotency_key)
        if _sent.get(marker) == due.due_at:
            continue  # already sent for this very schedule (a record is rescheduled many times in its life)
        if len(_sent) > 100_000:
            _sent.clear()  # bounded memory; a repeated tick is harmless, the saga ignores it
        _sent[marker] = due.due_at
        await send_model(lock_commands, key, due)
