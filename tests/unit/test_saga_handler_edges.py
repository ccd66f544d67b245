"""The lock saga handler's edges: every port call goes to the lock's own key and lock, dead letters carry the
replayable command and its reason, the retry policy decides when to give up, and a master-key shift hears the cause
of a failed step at the right key."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from app.domain.credential import LockRef
from app.domain.lock_event import LockAction, LockCommand, LockEvent, LockEventType, ShiftRef
from app.domain.lock_saga import LockSaga, RetryPolicy, VendorCall, VendorOutcome, due_retries
from app.domain.master_shift import LockStepDone
from app.domain.reconcile import ReconcileLock
from app.saga_handler import handle_lock_input
from tests.builders import command, lock
from tests.unit.test_saga_handler import NOW, FakePorts, failing

KEY = "t1/eu-west/door-101"
SHIFT = ShiftRef(tenant="t1", property="p1", shift_id="s1")


@dataclass
class KeyedPorts(FakePorts):
    """FakePorts that also remember which key and which lock each call was for."""

    keyed: list[tuple[str, object, object]] = field(default_factory=list)
    locks: list[tuple[str, LockRef]] = field(default_factory=list)
    reports: list[tuple[str, LockStepDone]] = field(default_factory=list)
    letters: list[tuple[str, bytes, str]] = field(default_factory=list)

    def write_saga(self, key: str, saga: LockSaga) -> None:
        self.keyed.append(("write_saga", key, saga))
        super().write_saga(key, saga)

    async def publish_event(self, key: str, event: LockEvent) -> None:
        self.keyed.append(("publish_event", key, event))
        await super().publish_event(key, event)

    async def report(self, key: str, done: LockStepDone) -> None:
        self.reports.append((key, done))
        await super().report(key, done)

    async def dead_letter(self, key: str, value: bytes, reason: str) -> None:
        self.letters.append((key, value, reason))
        await super().dead_letter(key, value, reason)

    def refusal(self, lock: LockRef, call: VendorCall) -> VendorOutcome | None:
        self.locks.append(("refusal", lock))
        return super().refusal(lock, call)

    async def call_vendor(self, lock: LockRef, call: VendorCall) -> VendorOutcome:
        self.locks.append(("call_vendor", lock))
        return await super().call_vendor(lock, call)

    async def reconcile(self, key: str, command: ReconcileLock) -> None:
        self.keyed.append(("reconcile", key, command))
        await super().reconcile(key, command)

    def schedule(self, key: str, saga: LockSaga) -> None:
        self.keyed.append(("schedule", key, saga))
        super().schedule(key, saga)


def master(action: LockAction, sequence: int = 1) -> LockCommand:
    return command(action, stay="master:s1", sequence=sequence).model_copy(update={"notify": SHIFT})


async def test_every_write_event_and_schedule_goes_to_the_locks_own_key() -> None:
    ports = KeyedPorts()
    await handle_lock_input(KEY, command(LockAction.ISSUE), ports, RetryPolicy())
    assert [(name, key) for name, key, _ in ports.keyed] == [
        ("write_saga", KEY), ("publish_event", KEY), ("write_saga", KEY), ("schedule", KEY)]
    published = ports.keyed[1][2]
    assert isinstance(published, LockEvent)
    assert published.type is LockEventType.KEY_ISSUED
    assert ports.keyed[-1][2] == ports.sagas[KEY], "the retry timer is told about the settled saga"


async def test_the_breaker_and_the_vendor_are_asked_about_the_sagas_own_lock() -> None:
    ports = KeyedPorts()
    await handle_lock_input(KEY, command(LockAction.ISSUE), ports, RetryPolicy())
    assert ports.locks == [("refusal", lock()), ("call_vendor", lock())]


async def test_a_reconcile_goes_to_reconciliation_under_the_locks_key() -> None:
    ports = KeyedPorts()
    run = ReconcileLock(lock=lock(), run_id="run-1")
    await handle_lock_input(KEY, run, ports, RetryPolicy())
    assert ports.keyed == [("reconcile", KEY, run)]


async def test_a_dead_letter_carries_the_replayable_command_and_the_reason_under_the_locks_key() -> None:
    ports = KeyedPorts(answer=failing(retryable=False))
    await handle_lock_input(KEY, command(LockAction.ISSUE), ports, RetryPolicy())
    ((key, value, reason),) = ports.letters
    assert key == KEY
    replay = LockCommand.model_validate_json(value)
    assert (replay.action, replay.stay, replay.sequence, replay.validity) == (
        LockAction.ISSUE, "t1/p1/R1", 1, command(LockAction.ISSUE).validity)
    assert reason == "issue failed after 1 attempt(s): vendor_unavailable (-)"


async def test_a_permanent_failure_is_not_counted_as_a_retry() -> None:
    ports = KeyedPorts(answer=failing(retryable=False))
    await handle_lock_input(KEY, command(LockAction.ISSUE), ports, RetryPolicy())
    assert "retry_scheduled" not in ports.names()


async def test_the_retry_policy_decides_when_a_retryable_failure_gives_up() -> None:
    ports = KeyedPorts(answer=failing(retryable=True))
    events = await handle_lock_input(KEY, command(LockAction.ISSUE), ports, RetryPolicy(max_attempts=1))
    assert [event.type for event in events] == [LockEventType.KEY_ISSUE_FAILED]


async def test_a_shift_hears_at_its_property_key_that_a_step_succeeded_with_no_cause() -> None:
    ports = KeyedPorts()
    await handle_lock_input(KEY, master(LockAction.ISSUE), ports, RetryPolicy())
    ((key, done),) = ports.reports
    assert (key, done.ok, done.cause) == ("t1/p1", True, "")


async def test_a_shift_hears_the_cause_of_a_failed_step() -> None:
    ports = KeyedPorts(answer=failing(retryable=False))
    await handle_lock_input(KEY, master(LockAction.ISSUE), ports, RetryPolicy())
    ((_, done),) = ports.reports
    assert (done.action, done.ok, done.cause) == (LockAction.ISSUE, False, "test:issue")


async def test_a_step_waiting_for_its_retry_tells_the_shift_nothing_yet() -> None:
    ports = KeyedPorts(answer=failing(retryable=True))
    events = await handle_lock_input(KEY, master(LockAction.ISSUE), ports, RetryPolicy())
    assert (events, ports.reports) == ([], [])


async def test_a_revoke_out_of_attempts_under_the_policy_tells_the_shift_it_failed_and_again_on_redelivery() -> None:
    policy = RetryPolicy(max_attempts=2)
    ports = KeyedPorts()
    await handle_lock_input(KEY, master(LockAction.ISSUE), ports, policy)
    ports.reports.clear()
    ports.answer = failing(retryable=True)
    await handle_lock_input(KEY, master(LockAction.REVOKE, 2), ports, policy)
    assert ports.reports == [], "one failed attempt: the revoke goes on"
    (due,) = due_retries(ports.sagas[KEY], NOW + timedelta(seconds=1))
    events = await handle_lock_input(KEY, due, ports, policy)
    assert [event.type for event in events] == [LockEventType.KEY_REVOKE_FAILED]
    ((_, done),) = ports.reports
    assert (done.action, done.ok, done.cause) == (LockAction.REVOKE, False, "test:revoke")
    await handle_lock_input(KEY, master(LockAction.REVOKE, 2), ports, policy)  # delivered again; the timer owns it
    assert [(d.action, d.ok) for _, d in ports.reports] == [(LockAction.REVOKE, False)] * 2
