"""The lock saga handler over fake ports: what it does, and in which order, for each kind of input."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from app.domain.audit_record import AuditRecord
from app.domain.credential import LockRef
from app.domain.lock_event import LockAction, LockCommand, LockEvent, LockEventType, ShiftRef
from app.domain.lock_saga import CredentialStatus, LockSaga, RetryPolicy, VendorCall, VendorOutcome, new_saga
from app.domain.master_shift import LockStepDone
from app.domain.reconcile import ReconcileLock
from app.saga_handler import handle_lock_input
from tests.builders import command, lock

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
POLICY = RetryPolicy(max_attempts=3)


@dataclass
class FakePorts:
    """Every port call appended to ``calls`` in order; the vendor answers with ``answer(call)``."""

    answer: object = None  # a function VendorCall -> VendorOutcome; default: success
    refuse: bool = False
    sagas: dict[str, LockSaga] = field(default_factory=dict)
    calls: list[tuple[str, object]] = field(default_factory=list)

    def now(self) -> datetime:
        return NOW

    def read_saga(self, key: str, lock: LockRef) -> LockSaga:
        return self.sagas.get(key) or new_saga(lock)

    def write_saga(self, key: str, saga: LockSaga) -> None:
        self.calls.append(("write_saga", saga))
        self.sagas[key] = saga

    async def make_durable(self) -> None:
        self.calls.append(("make_durable", None))

    async def publish_event(self, key: str, event: LockEvent) -> None:
        self.calls.append(("publish_event", event))

    async def audit(self, record: AuditRecord) -> None:
        self.calls.append(("audit", record.action))

    async def report(self, key: str, done: LockStepDone) -> None:
        self.calls.append(("report", done))

    async def dead_letter(self, key: str, value: bytes, reason: str) -> None:
        self.calls.append(("dead_letter", reason))

    def refusal(self, lock: LockRef, call: VendorCall) -> VendorOutcome | None:
        if not self.refuse:
            return None
        return VendorOutcome(action=call.action, stay=call.record.stay, idempotency_key=call.record.idempotency_key,
                             ok=False, error_cause="circuit_open", retryable=True, retry_delay_s=5,
                             spent_attempt=False)

    async def call_vendor(self, lock: LockRef, call: VendorCall) -> VendorOutcome:
        self.calls.append(("call_vendor", call))
        if callable(self.answer):
            outcome: VendorOutcome = self.answer(call)
            return outcome
        return VendorOutcome(action=call.action, stay=call.record.stay, idempotency_key=call.record.idempotency_key,
                             ok=True, vendor_ref="pwd-1")

    async def reconcile(self, key: str, command: ReconcileLock) -> None:
        self.calls.append(("reconcile", command.run_id))

    def schedule(self, key: str, saga: LockSaga) -> None:
        self.calls.append(("schedule", None))

    def retry_scheduled(self, lock: LockRef) -> None:
        self.calls.append(("retry_scheduled", lock.vendor))

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


def failing(retryable: bool) -> object:
    def answer(call: VendorCall) -> VendorOutcome:
        return VendorOutcome(action=call.action, stay=call.record.stay, idempotency_key=call.record.idempotency_key,
                             ok=False, error_cause="vendor_unavailable", retryable=retryable, retry_delay_s=1)
    return answer


async def test_an_issue_makes_its_intent_durable_and_audits_it_before_the_vendor_call() -> None:
    ports = FakePorts()
    events = await handle_lock_input("k", command(LockAction.ISSUE), ports, POLICY)
    assert ports.names() == ["write_saga", "make_durable", "audit", "call_vendor", "publish_event", "audit",
                             "write_saga", "schedule"]
    intent = ports.calls[0][1]
    assert isinstance(intent, LockSaga)
    assert intent.credentials["t1/p1/R1"].status is CredentialStatus.ISSUING, "the intent is what became durable"
    assert [event.type for event in events] == [LockEventType.KEY_ISSUED]


async def test_the_settled_state_is_written_only_after_its_event_was_acknowledged() -> None:
    ports = FakePorts()
    await handle_lock_input("k", command(LockAction.ISSUE), ports, POLICY)
    names = ports.names()
    assert names.index("publish_event") < len(names) - 1 - names[::-1].index("write_saga")
    final = ports.sagas["k"].credentials["t1/p1/R1"]
    assert final.status is CredentialStatus.ISSUED
    assert final.vendor_ref == "pwd-1"


async def test_an_open_breaker_records_no_intent_makes_no_call_and_schedules_a_retry() -> None:
    ports = FakePorts(refuse=True)
    events = await handle_lock_input("k", command(LockAction.ISSUE), ports, POLICY)
    assert "call_vendor" not in ports.names()
    assert "make_durable" not in ports.names()
    assert ports.names() == ["retry_scheduled", "write_saga", "schedule"]
    record = ports.sagas["k"].credentials["t1/p1/R1"]
    assert record.retry_at is not None
    assert record.attempts == 0, "a refused call costs no attempt"
    assert events == []


async def test_a_retryable_failure_is_counted_and_left_for_the_delayed_retry() -> None:
    ports = FakePorts(answer=failing(retryable=True))
    events = await handle_lock_input("k", command(LockAction.ISSUE), ports, POLICY)
    assert events == []
    assert ports.names().count("retry_scheduled") == 1
    assert ports.sagas["k"].credentials["t1/p1/R1"].attempts == 1


async def test_a_permanent_failure_emits_issue_failed_and_dead_letters_the_command() -> None:
    ports = FakePorts(answer=failing(retryable=False))
    events = await handle_lock_input("k", command(LockAction.ISSUE), ports, POLICY)
    assert [event.type for event in events] == [LockEventType.KEY_ISSUE_FAILED]
    assert "dead_letter" in ports.names()
    assert ports.names().index("publish_event") < ports.names().index("dead_letter")


async def test_a_master_key_step_reports_its_settled_outcome_to_the_shift() -> None:
    ports = FakePorts()
    shift = ShiftRef(tenant="t1", property="p1", shift_id="s1")
    master = command(LockAction.ISSUE, stay="master:s1").model_copy(update={"notify": shift})
    await handle_lock_input("k", master, ports, POLICY)
    [done] = [value for name, value in ports.calls if name == "report"]
    assert isinstance(done, LockStepDone)
    assert (done.shift_id, done.lock_id, done.action, done.ok) == ("s1", "door-101", LockAction.ISSUE, True)


async def test_a_repeated_master_key_step_that_needs_no_call_still_reports() -> None:
    ports = FakePorts()
    shift = ShiftRef(tenant="t1", property="p1", shift_id="s1")
    master: LockCommand = command(LockAction.ISSUE, stay="master:s1").model_copy(update={"notify": shift})
    await handle_lock_input("k", master, ports, POLICY)
    ports.calls.clear()
    await handle_lock_input("k", master.model_copy(update={"sequence": 0}), ports, POLICY)  # older than applied
    assert "call_vendor" not in ports.names()
    assert [name for name in ports.names() if name == "report"] == ["report"]


async def test_a_reconcile_command_goes_to_reconciliation_and_touches_no_saga() -> None:
    ports = FakePorts()
    await handle_lock_input("k", ReconcileLock(lock=lock(), run_id="run-1"), ports, POLICY)
    assert ports.calls == [("reconcile", "run-1")]
