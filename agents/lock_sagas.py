"""``lock.commands`` -> vendor calls and canonical ``lock.events``, one saga per lock in ``lock_sagas``."""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

from faust import StreamT
from pydantic import Field, TypeAdapter

from agents.continuity import admitted, processed
from agents.dead_letters import dead_letter, parse_or_dead_letter
from agents.reconcile import reconcile_lock
from agents.retries import schedule
from app.db_retry import until_database_answers
from app.domain.audit_record import AuditRecord, audit_intent, audit_outcome
from app.domain.errors import LockError
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
from app.metrics import RETRIES_SCHEDULED
from app.runtime import runtime
from app.settings import settings
from app.streams import app, lock_audit, lock_commands, lock_events, ops_commands
from app.vendor_calls import failed_outcome
from tables.sagas import read_lock_saga, write_lock_saga

LockCommandsValue = Annotated[LockCommand | RetryDue | ReconcileLock, Field(discriminator="type")]
LOCK_INPUT: TypeAdapter[LockCommandsValue] = TypeAdapter(LockCommandsValue)
POLICY = RetryPolicy(max_attempts=settings.retry_max_attempts)


@app.agent(lock_commands, concurrency=1)
async def run_lock_sagas(stream: StreamT[bytes]) -> AsyncIterator[list[dict[str, Any]]]:
    # concurrency=1: faust-streaming #606, a higher concurrency can commit past an event still in flight.
    async for event in stream.events():
        if not await admitted(event):
            continue
        events = await run_lock_saga(event.key, event.value)
        processed(event)
        yield [event.model_dump(mode="json") for event in events]


async def run_lock_saga(key: str, value: bytes | None) -> list[LockEvent]:
    """Advance one lock's saga by one command or retry tick, performing the vendor calls it asks for."""
    item = await parse_or_dead_letter(LOCK_INPUT, lock_commands, key, value, "lock command")
    if item is None:
        return []
    if isinstance(item, ReconcileLock):
        await reconcile_lock(key, item)
        return []
    saga = read_lock_saga(key, item.lock)
    saga, outputs = step_lock_saga(saga, item, datetime.now(UTC), POLICY)
    emitted: list[LockEvent] = []
    pending: deque[Output] = deque(outputs)
    while pending:
        output = pending.popleft()
        if isinstance(output, LockEvent):
            # The event is acknowledged before the settled state is written: a crash in between replays the
            # command, which reconciles with the vendor and re-emits the same event id.
            sent = await lock_events.send(key=key, value=output.model_dump_json().encode())
            await _audit(audit_outcome(output))
            await sent
            emitted.append(output)
            await _report(saga, output.stay)
        elif isinstance(output, DeadLetter):
            await dead_letter(lock_commands.get_topic_name(), key, output.command.model_dump_json().encode(),
                              output.reason)
        else:
            outcome = await _carry_out(key, saga, output)
            if outcome.retryable and not outcome.ok:
                RETRIES_SCHEDULED.labels(saga.lock.vendor).inc()
            saga, more = step_lock_saga(saga, outcome, datetime.now(UTC), POLICY)
            pending.extend(more)
    if isinstance(item, LockCommand) and item.notify is not None and not emitted:
        await _report(saga, item.stay)  # a step that needed no vendor call still reports to its shift
    # Not flushed here: Faust flushes the producer before it commits this command's offset, and a write lost before
    # that replays the command, which reconciles.
    write_lock_saga(key, saga)
    schedule(key, saga)
    return emitted


async def _report(saga: LockSaga, stay: str) -> None:
    """Tell a master-key shift that its step on this lock settled."""
    report = settled_report(saga, stay, POLICY)
    notify = saga.credentials[stay].notify if stay in saga.credentials else None
    if report is None or notify is None:
        return
    action, ok = report
    done = LockStepDone(shift_id=notify.shift_id, tenant=notify.tenant, property=notify.property,
                        lock_id=saga.lock.lock_id, action=action, ok=ok,
                        cause="" if ok else saga.credentials[stay].cause)
    await ops_commands.send(key=notify.key, value=done.model_dump_json().encode())


async def _carry_out(key: str, saga: LockSaga, call: VendorCall) -> VendorOutcome:
    rt = await runtime()
    refusal = rt.caller.refuses(saga.lock)
    if refusal is not None:
        return rt.caller.refused_outcome(call, refusal)  # no call is made: no intent to record
    await _record_intent(key, saga)
    await _audit(audit_intent(saga.lock, call, datetime.now(UTC)))
    try:
        port = await until_database_answers(
            lambda: rt.ports.port(saga.lock.tenant, saga.lock.property, saga.lock.vendor))
    except LockError as err:
        return failed_outcome(call, err)
    return await rt.caller.carry_out(port, saga.lock, call, rt.material)


async def _audit(record: AuditRecord) -> None:
    await lock_audit.send(key=record.tenant, value=record.model_dump_json().encode())


async def _record_intent(key: str, saga: LockSaga) -> None:
    """Write the saga and wait until its changelog record is on the broker: intent is durable before acting."""
    write_lock_saga(key, saga)
    await app.producer.flush()


