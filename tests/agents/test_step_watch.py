"""The retry timer's scan measures the retry depth and flags lock steps stalled in flight with no retry pending."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY

from agents.retries import STALL_S, observe_steps
from app.domain.lock_event import LockAction
from app.domain.lock_saga import LockSaga, VendorCall, VendorOutcome, new_saga, step_lock_saga
from app.worker_state import RetryClock
from tests.builders import command, lock

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)


def intent(lock_id: str) -> tuple[LockSaga, VendorCall]:
    """An issue whose intent is recorded and whose call is at the vendor (no outcome yet)."""
    saga, (call,) = step_lock_saga(new_saga(lock(lock_id)), command(LockAction.ISSUE), NOW)
    assert isinstance(call, VendorCall)
    return saga, call


def outcome(call: VendorCall, *, ok: bool) -> VendorOutcome:
    return VendorOutcome(action=call.action, stay=call.record.stay, idempotency_key=call.record.idempotency_key,
                         ok=ok, vendor_ref="p-1" if ok else None, retryable=not ok, retry_delay_s=5,
                         error_cause=None if ok else "vendor_unavailable")


def gauge(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def test_a_step_in_flight_with_no_retry_is_stalled_only_once_seen_so_for_longer_than_a_call_can_take() -> None:
    calling, call = intent("door-1")
    waiting, retry_call = intent("door-2")
    waiting, _ = step_lock_saga(waiting, outcome(retry_call, ok=False), NOW)
    sagas = [("k1", calling), ("k2", waiting)]
    clock = RetryClock()

    assert observe_steps(clock, sagas, 1000.0, NOW) == []
    assert gauge("lis_saga_steps_stalled") == 0, "a call at the vendor right now is not stalled"
    assert gauge("lis_saga_steps_retry_pending", vendor="ttlock") == 1
    (redrive,) = observe_steps(clock, sagas, 1000.0 + STALL_S + 1, NOW)
    assert gauge("lis_saga_steps_stalled") == 1, "the same intent, scan after scan, with nobody carrying it out"
    key, due = redrive
    assert (key, due.stay, due.idempotency_key) == ("k1", call.record.stay, call.record.idempotency_key)
    _, (again_call,) = step_lock_saga(calling, due, NOW)
    assert isinstance(again_call, VendorCall)
    assert again_call.reconcile, "the re-driven step looks on the lock before calling again"
    assert observe_steps(clock, sagas, 1000.0 + STALL_S + 2, NOW) == [], "re-driven once, not on every scan"

    settled, _ = step_lock_saga(calling, outcome(call, ok=True), NOW)
    observe_steps(clock, [("k1", settled), ("k2", waiting)], 1000.0 + STALL_S + 3, NOW)
    assert gauge("lis_saga_steps_stalled") == 0
    again, _ = intent("door-1")  # a new intent under the same key starts its own clock
    assert observe_steps(clock, [("k1", again)], 1000.0 + STALL_S + 4, NOW) == []
    assert gauge("lis_saga_steps_stalled") == 0
    assert gauge("lis_saga_steps_retry_pending", vendor="ttlock") == 0


def test_the_scan_reports_how_long_the_oldest_due_retry_has_waited_past_its_time() -> None:
    waiting, retry_call = intent("door-3")
    waiting, _ = step_lock_saga(waiting, outcome(retry_call, ok=False), NOW)  # retry due 5 s from NOW at most
    (record,) = waiting.credentials.values()
    assert record.retry_at is not None
    observe_steps(RetryClock(), [("k3", waiting)], 1000.0, record.retry_at - timedelta(seconds=1))
    assert gauge("lis_saga_retry_oldest_overdue_seconds") == 0, "not due yet"
    observe_steps(RetryClock(), [("k3", waiting)], 1000.0, record.retry_at + timedelta(seconds=90))
    assert gauge("lis_saga_retry_oldest_overdue_seconds") == 90
    observe_steps(RetryClock(), [], 1000.0, NOW)
    assert gauge("lis_saga_retry_oldest_overdue_seconds") == 0, "nothing waiting any more"
