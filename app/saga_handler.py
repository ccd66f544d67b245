"""One ``lock.commands`` record, handled: the control flow around the pure lock saga step, over :class:`SagaPorts`.

The pure step (``app.domain.lock_saga.step_lock_saga``) decides; this handler performs what it asks for in the order
that keeps a crash safe, and the agent (``agents/lock_sagas.py``) only supplies the ports:

- **intent before acting**: the saga, with the call's idempotency key, is written and made durable on the broker
  before the vendor is called, and the intent is audited; a replay after a crash finds it and reconciles;
- **no call on an open breaker**: the refusal is an outcome, with no intent recorded and no attempt spent;
- **the broker acked, then state**: each lock event is acknowledged before the settled saga is written, so a crash in
  between replays the command, which reconciles with the vendor and re-emits the same event id;
- **a master-key shift hears about every settled step** of a stay that asks to be reported on.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime
from typing import Protocol

from app.domain.audit_record import AuditRecord, audit_intent, audit_outcome
from app.domain.credential import LockRef
from app.domain.lock_event import LockCommand, LockEvent, RetryDue
from app.domain.lock_saga import (
    DeadLetter,
    LockSaga,
    Output,
    RetryPolicy,
    VendorCall,
    VendorOutcome,
    settled_report,
    step_lock_saga,
)
from app.domain.master_shift import LockStepDone
from app.domain.reconcile import ReconcileLock
from app.domain.wire import wire

LockInput = LockCommand | RetryDue | ReconcileLock


class SagaPorts(Protocol):
    """What handling a lock command needs from the world."""

    def now(self) -> datetime: ...

    def read_saga(self, key: str, lock: LockRef) -> LockSaga: ...

    def write_saga(self, key: str, saga: LockSaga) -> None:
        """Write the saga state (its changelog record is sent with the next flush)."""

    async def make_durable(self) -> None:
        """Return once everything written so far (the saga's intent) is on the broker."""

    async def publish_event(self, key: str, event: LockEvent) -> None:
        """Send a lock event and return once the broker acknowledged it."""

    async def audit(self, record: AuditRecord) -> None: ...

    async def report(self, key: str, done: LockStepDone) -> None:
        """Tell a master-key shift (keyed ``key`` on ``ops.commands``) that its step on a lock settled."""

    async def dead_letter(self, key: str, value: bytes, reason: str) -> None: ...

    def refusal(self, lock: LockRef, call: VendorCall) -> VendorOutcome | None:
        """The outcome of a call an open breaker refuses right now, without making it; None when it may go."""

    async def call_vendor(self, lock: LockRef, call: VendorCall) -> VendorOutcome:
        """Perform the call on the lock's vendor port; never raises a lock error (it is the outcome)."""

    async def reconcile(self, key: str, command: ReconcileLock) -> None: ...

    def schedule(self, key: str, saga: LockSaga) -> None:
        """Remember when the saga's delayed calls are due."""

    def retry_scheduled(self, lock: LockRef) -> None:
        """Count a failed call that will be retried."""


async def handle_lock_input(key: str, item: LockInput, ports: SagaPorts, policy: RetryPolicy) -> list[LockEvent]:
    """Advance one lock's saga by one command or retry tick, performing the vendor calls it asks for; the lock
    events it emitted."""
    if isinstance(item, ReconcileLock):
        await ports.reconcile(key, item)
        return []
    saga, outputs = step_lock_saga(ports.read_saga(key, item.lock), item, ports.now(), policy)
    emitted: list[LockEvent] = []
    pending: deque[Output] = deque(outputs)
    while pending:
        output = pending.popleft()
        if isinstance(output, LockEvent):
            await ports.publish_event(key, output)
            await ports.audit(audit_outcome(output))
            emitted.append(output)
            await _report(saga, output.stay, ports, policy)
        elif isinstance(output, DeadLetter):
            await ports.dead_letter(key, wire(output.command), output.reason)
        else:
            outcome = await _carry_out(key, saga, output, ports)
            if outcome.retryable and not outcome.ok:
                ports.retry_scheduled(saga.lock)
            saga, more = step_lock_saga(saga, outcome, ports.now(), policy)
            pending.extend(more)
    if isinstance(item, LockCommand) and item.notify is not None and not emitted:
        await _report(saga, item.stay, ports, policy)  # a step that needed no vendor call still reports to its shift
    # Not made durable here: Faust flushes the producer before it commits this command's offset, and a write lost
    # before that replays the command, which reconciles.
    ports.write_saga(key, saga)
    ports.schedule(key, saga)
    return emitted


async def _carry_out(key: str, saga: LockSaga, call: VendorCall, ports: SagaPorts) -> VendorOutcome:
    refused = ports.refusal(saga.lock, call)
    if refused is not None:
        return refused  # no call is made: no intent to record
    ports.write_saga(key, saga)
    await ports.make_durable()
    await ports.audit(audit_intent(saga.lock, call, ports.now()))
    return await ports.call_vendor(saga.lock, call)


async def _report(saga: LockSaga, stay: str, ports: SagaPorts, policy: RetryPolicy) -> None:
    report = settled_report(saga, stay, policy)
    notify = saga.credentials[stay].notify if stay in saga.credentials else None
    if report is None or notify is None:
        return
    action, ok = report
    done = LockStepDone(shift_id=notify.shift_id, tenant=notify.tenant, property=notify.property,
                        lock_id=saga.lock.lock_id, action=action, ok=ok,
                        cause="" if ok else saga.credentials[stay].cause)
    await ports.report(notify.key, done)
