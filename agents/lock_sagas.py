"""``lock.commands`` -> vendor calls and canonical ``lock.events``, one saga per lock in ``lock_sagas``."""

from __future__ import annotations

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
from app.domain.audit_record import AuditRecord
from app.domain.credential import LockRef
from app.domain.errors import LockError
from app.domain.lock_event import LockCommand, LockEvent, LockEventType, RetryDue
from app.domain.lock_saga import LockSaga, RetryPolicy, VendorCall, VendorOutcome
from app.domain.master_shift import LockStepDone
from app.domain.reconcile import ReconcileLock
from app.metrics import LOCK_EVENTS, OFFLINE_CODES, PMS_TO_LOCK_EVENT, PROPERTY_LOCK_EVENTS, RETRIES_SCHEDULED
from app.runtime import Runtime, runtime
from app.saga_handler import handle_lock_input
from app.settings import settings
from app.streams import app, lock_audit, lock_commands, lock_events, ops_commands, publish_acked, send_model
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
    """Handle one record of ``lock.commands``; a record that does not parse is a dead letter."""
    item = await parse_or_dead_letter(LOCK_INPUT, lock_commands, key, value, "lock command")
    if item is None:
        return []
    return await handle_lock_input(key, item, FaustSagaPorts(await runtime()), POLICY)


class FaustSagaPorts:
    """:class:`app.saga_handler.SagaPorts` on the worker's tables, topics, vendor caller and lock directory."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def now(self) -> datetime:
        return datetime.now(UTC)

    def read_saga(self, key: str, lock: LockRef) -> LockSaga:
        return read_lock_saga(key, lock)

    def write_saga(self, key: str, saga: LockSaga) -> None:
        write_lock_saga(key, saga)

    async def make_durable(self) -> None:
        await app.producer.flush()

    async def publish_event(self, key: str, event: LockEvent) -> None:
        await publish_acked(lock_events, key, event)
        LOCK_EVENTS.labels(event.tenant, event.vendor, event.type).inc()
        PROPERTY_LOCK_EVENTS.labels(event.tenant, event.property, event.type).inc()
        if event.offline and event.type is LockEventType.KEY_ISSUED:
            OFFLINE_CODES.labels(event.tenant, event.vendor).inc()
        if event.requested_at is not None:
            waited = (event.occurred_at - event.requested_at).total_seconds()
            PMS_TO_LOCK_EVENT.labels(event.tenant, event.type).observe(max(waited, 0.0))

    async def audit(self, record: AuditRecord) -> None:
        await send_model(lock_audit, record.tenant, record)

    async def report(self, key: str, done: LockStepDone) -> None:
        await send_model(ops_commands, key, done)

    async def dead_letter(self, key: str, value: bytes, reason: str) -> None:
        await dead_letter(lock_commands.get_topic_name(), key, value, reason)

    def refusal(self, lock: LockRef, call: VendorCall) -> VendorOutcome | None:
        refusal = self.rt.caller.refuses(lock)
        return None if refusal is None else self.rt.caller.refused_outcome(call, refusal)

    async def call_vendor(self, lock: LockRef, call: VendorCall) -> VendorOutcome:
        try:
            port = await until_database_answers(lambda: self.rt.ports.port(lock.tenant, lock.property, lock.vendor))
        except LockError as err:
            return failed_outcome(call, err)
        return await self.rt.caller.carry_out(port, lock, call, self.rt.material)

    async def reconcile(self, key: str, command: ReconcileLock) -> None:
        await reconcile_lock(key, command)

    def schedule(self, key: str, saga: LockSaga) -> None:
        schedule(key, saga)

    def retry_scheduled(self, lock: LockRef) -> None:
        RETRIES_SCHEDULED.labels(lock.vendor).inc()
