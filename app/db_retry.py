"""Waiting out a PostgreSQL outage instead of losing the message being processed.

The agents need the database for the lock directory and vendor accounts. While it is down, the agent waits and
retries (exponential backoff with jitter, capped) rather than crashing: a crashed Faust agent can skip the message
it was on, and per-lock order means the partition has to wait anyway.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_random_exponential

from app.metrics import DATABASE_RETRIES

T = TypeVar("T")
log = logging.getLogger(__name__)
# The one list of errors that mean "PostgreSQL is not answering right now" (every retry loop uses it): no connection,
# a connection cut, a server starting up or shutting down (a fast shutdown cuts running queries with 57P01).
OUTAGE = (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError, asyncpg.CannotConnectNowError,
          asyncpg.AdminShutdownError, asyncpg.CrashShutdownError, asyncpg.IdleSessionTimeoutError)


async def until_database_answers(operation: Callable[[], Awaitable[T]], *, cap_s: float = 5.0,
                                 what: str = "PostgreSQL") -> T:
    """Run ``operation``, retrying for as long as PostgreSQL is unreachable; ``what`` names the waiter in the log."""

    def note(state: RetryCallState) -> None:
        DATABASE_RETRIES.inc()
        error = state.outcome.exception() if state.outcome is not None else None
        log.warning("%s: PostgreSQL unreachable (%s: %s), retrying", what, type(error).__name__, error)

    retrying = AsyncRetrying(retry=retry_if_exception_type(OUTAGE), wait=wait_random_exponential(0.2, max=cap_s),
                             before_sleep=note, reraise=True)
    async for attempt in retrying:
        with attempt:
            return await operation()
    raise AssertionError("unreachable")
