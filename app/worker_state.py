"""What a worker's agents and timers remember between records, in one object per worker process.

Nothing of it is created at import: the first step or timer tick of a worker makes its :class:`WorkerState`
(:func:`worker_state`), and a test installs a fresh one (:func:`install`) instead of patching module globals. None
of it is durable or needs to be: after a restart the retry timer's full scan, the offset ledgers of the changelog
tables and the audit sink's replayed records rebuild it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from faust.types import TP

if TYPE_CHECKING:
    from aiokafka.admin import AIOKafkaAdminClient

    from adapters.postgres.audit_store import AuditStore

StepMarker = tuple[str, str, str, str]  # (lock key, stay, idempotency key, status) of a step in flight


@dataclass
class RetryClock:
    """The retry timer's memory (``agents/retries.py``)."""

    due: list[tuple[datetime, str]] = field(default_factory=list)  # a heap of (due time, lock key)
    sent: dict[tuple[str, str], datetime] = field(default_factory=dict)  # (lock, idempotency key) -> due time ticked
    in_flight_since: dict[StepMarker, float] = field(default_factory=dict)  # first seen in flight with no retry
    redriven: set[StepMarker] = field(default_factory=set)  # stalled steps already sent a tick


@dataclass
class ContinuityWatch:
    """The offset-continuity checks' memory (``agents/continuity.py``)."""

    repairing: dict[TP, tuple[int, float]] = field(default_factory=dict)  # hole being re-read, and until when
    log_start: dict[TP, int] = field(default_factory=dict)  # first offset of partitions with no ledger yet
    admin: AIOKafkaAdminClient | None = None  # kept once started, for the group's committed offsets


@dataclass
class AuditSinkState:
    """The audit sink's memory (``agents/audit_sink.py``)."""

    store: AuditStore | None = None  # opened on first use
    to_checkpoint: set[str] = field(default_factory=set)  # tenants appended to since their last checkpoint


@dataclass
class WorkerState:
    retries: RetryClock = field(default_factory=RetryClock)
    continuity: ContinuityWatch = field(default_factory=ContinuityWatch)
    audit: AuditSinkState = field(default_factory=AuditSinkState)


_current: WorkerState | None = None


def worker_state() -> WorkerState:
    """This worker's state, made on first use."""
    global _current
    if _current is None:
        _current = WorkerState()
    return _current


def install(state: WorkerState | None) -> None:
    """Use ``state`` from now on (a test's own); None: a fresh one on next use."""
    global _current
    _current = state
