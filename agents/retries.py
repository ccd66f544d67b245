"""The retry timer: sends a ``RetryDue`` to ``lock.commands`` for every delayed vendor call whose time has come.

Retries go through the lock's own partition like any command, so they keep per-lock order and never block other
locks. Each worker scans only the table partitions it owns; a tick it already sent is not sent again while the
saga has not consumed it (the saga also ignores duplicate ticks).
"""

from __future__ import annotations

from datetime import UTC, datetime

from app.domain.lock_saga import LockSaga, due_retries
from app.settings import settings
from app.streams import app, lock_commands
from tables.sagas import lock_sagas

_sent: dict[tuple[str, str], int] = {}


@app.timer(interval=settings.retry_scan_s)  # type: ignore[untyped-decorator]
async def dispatch_due_retries() -> None:
    now = datetime.now(UTC)
    for key, raw in list(lock_sagas.items()):
        for due in due_retries(LockSaga.model_validate_json(raw), now):
            marker = (key, due.idempotency_key)
            if _sent.get(marker) == due.attempt:
                continue
            if len(_sent) > 100_000:
                _sent.clear()  # bounded memory; a repeated tick is harmless, the saga ignores it
            _sent[marker] = due.attempt
            await lock_commands.send(key=key, value=due.model_dump_json().encode())
