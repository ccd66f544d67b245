"""The master-key shift saga of one property, as a pure step function.

A shift puts a new master passcode on every lock of a property and takes the previous master off each lock only once
the new one is live on that lock. Work fans out with bounded concurrency (per gateway, since a gateway runs one
command at a time, and overall, for the vendor's rate limit); each lock reports back when its step settles. Locks that
still fail after the lock saga's own retries (offline, typically) are stragglers, reported by lock. The state lives in
a changelog table, so a crashed worker resumes where it was; a cancelled shift dispatches nothing new.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Literal, TypedDict, Unpack

from pydantic import Field

from app.domain.credential import CredentialKind, Frozen, LockRef, Validity
from app.domain.lock_event import LockAction, LockCommand, ShiftRef


class ShiftRequested(Frozen):
    type: Literal["master_key.shift"] = "master_key.shift"
    shift_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    tenant: str
    property: str
    requested_by: str
    per_gateway: int = Field(default=1, ge=1)
    max_in_flight: int = Field(default=20, ge=1)
    valid_days: int = Field(default=365, ge=1)


class ShiftCancelled(Frozen):
    type: Literal["master_key.cancel"] = "master_key.cancel"
    shift_id: str
    tenant: str
    property: str
    requested_by: str


class LockStepDone(Frozen):
    """Sent by a lock saga when a master credential step on its lock settled."""

    type: Literal["master_key.lock_done"] = "master_key.lock_done"
    shift_id: str
    tenant: str
    property: str
    lock_id: str
    action: LockAction
    ok: bool
    cause: str = ""


OpsCommand = Annotated[ShiftRequested | ShiftCancelled | LockStepDone, Field(discriminator="type")]


class LockPhase(StrEnum):
    PENDING = "pending"
    INSTALLING = "installing"
    REVOKING_OLD = "revoking_old"
    DONE = "done"
    STRAGGLER = "straggler"


class ShiftStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class MasterShift(Frozen):
    request: ShiftRequested
    previous_shift: str | None
    status: ShiftStatus
    locks: dict[str, LockRef]
    phases: dict[str, LockPhase]
    causes: dict[str, str] = Field(default_factory=dict)
    started_at: datetime

    def counts(self) -> dict[str, int]:
        return {phase.value: sum(1 for p in self.phases.values() if p is phase) for phase in LockPhase}

    @property
    def stragglers(self) -> dict[str, str]:
        return {lock: self.causes.get(lock, "") for lock, p in self.phases.items() if p is LockPhase.STRAGGLER}


class ShiftChanges(TypedDict, total=False):
    """The fields of a :class:`MasterShift` a step may change, typed (mypy checks every key and value;
    ``tests/unit/test_typed_changes.py`` keeps it in step with the model)."""

    status: ShiftStatus
    phases: dict[str, LockPhase]
    causes: dict[str, str]


def changed_shift(shift: MasterShift, **changes: Unpack[ShiftChanges]) -> MasterShift:
    """``shift`` with ``changes``: the one way a step changes a master-key shift."""
    return shift.model_copy(update=changes)


class ShiftProgress(Frozen):
    """Published on ``lock.events`` (keyed tenant/property) after every change of a shift."""

    type: Literal["master_key.shift_progress"] = "master_key.shift_progress"
    tenant: str
    property: str
    shift_id: str
    status: ShiftStatus
    counts: dict[str, int]
    total: int
    stragglers: dict[str, str]


class PropertyMasters(Frozen):
    """A property's master-key history: the live master's shift and the shift in progress, if any."""

    current_shift: str | None = None
    shift: MasterShift | None = None


def progress_of(shift: MasterShift) -> ShiftProgress:
    return ShiftProgress(tenant=shift.request.tenant, property=shift.request.property,
                         shift_id=shift.request.shift_id, status=shift.status, counts=shift.counts(),
                         total=len(shift.locks), stragglers=shift.stragglers)


def master_stay(shift_id: str) -> str:
    """The stay id under which a shift's master credential lives in each lock saga."""
    return f"master:{shift_id}"


def step_shift(state: PropertyMasters, command: ShiftRequested | ShiftCancelled | LockStepDone, locks: list[LockRef],
               now: datetime) -> tuple[PropertyMasters, list[LockCommand]]:
    """Apply one ops command or lock report; ``locks`` are the property's locks (used when a shift starts)."""
    shift = state.shift
    if isinstance(command, ShiftRequested):
        if shift is not None and (shift.request.shift_id == command.shift_id or shift.status is ShiftStatus.RUNNING):
            return state, []  # a duplicate, or one shift at a time per property
        shift = MasterShift(request=command, previous_shift=state.current_shift, status=ShiftStatus.RUNNING,
                            locks={lock.lock_id: lock for lock in locks},
                            phases={lock.lock_id: LockPhase.PENDING for lock in locks}, started_at=now)
        return _dispatch(PropertyMasters(current_shift=state.current_shift, shift=shift))
    if shift is None or shift.request.shift_id != command.shift_id:
        return state, []
    if isinstance(command, ShiftCancelled):
        if shift.status is not ShiftStatus.RUNNING:
            return state, []
        cancelled = changed_shift(shift, status=ShiftStatus.CANCELLED)
        return PropertyMasters(current_shift=state.current_shift, shift=cancelled), []
    state, revokes = _on_lock_done(state, shift, command)
    state, installs = _dispatch(state)
    return state, revokes + installs


def _on_lock_done(state: PropertyMasters, shift: MasterShift, done: LockStepDone
                  ) -> tuple[PropertyMasters, list[LockCommand]]:
    phase = shift.phases.get(done.lock_id)
    expected = {LockAction.ISSUE: LockPhase.INSTALLING, LockAction.REVOKE: LockPhase.REVOKING_OLD}[done.action]
    if phase is not expected:
        return state, []  # a repeated report
    commands = []
    if not done.ok:
        new_phase = LockPhase.STRAGGLER
    elif done.action is LockAction.ISSUE and shift.previous_shift is not None:
        # The new master is live on this lock: only now may the old one go.
        new_phase = LockPhase.REVOKING_OLD
        commands.append(_command(shift, done.lock_id, LockAction.REVOKE, master_stay(shift.previous_shift)))
    else:
        new_phase = LockPhase.DONE
    causes = {**shift.causes, done.lock_id: done.cause} if not done.ok else shift.causes
    updated = changed_shift(shift, phases={**shift.phases, done.lock_id: new_phase}, causes=causes)
    return PropertyMasters(current_shift=state.current_shift, shift=updated), commands


def _dispatch(state: PropertyMasters) -> tuple[PropertyMasters, list[LockCommand]]:
    shift = state.shift
    assert shift is not None
    commands: list[LockCommand] = []
    phases = dict(shift.phases)
    if shift.status is ShiftStatus.RUNNING:
        busy = [shift.locks[lock_id] for lock_id, p in phases.items()
                if p in (LockPhase.INSTALLING, LockPhase.REVOKING_OLD)]
        per_gateway: dict[str | None, int] = {}
        for lock in busy:
            per_gateway[lock.gateway_id] = per_gateway.get(lock.gateway_id, 0) + 1
        in_flight = len(busy)
        for lock_id, phase in phases.items():
            lock = shift.locks[lock_id]
            if phase is not LockPhase.PENDING or in_flight >= shift.request.max_in_flight:
                continue
            if per_gateway.get(lock.gateway_id, 0) >= shift.request.per_gateway:
                continue
            phases[lock_id] = LockPhase.INSTALLING
            per_gateway[lock.gateway_id] = per_gateway.get(lock.gateway_id, 0) + 1
            in_flight += 1
            commands.append(_command(shift, lock_id, LockAction.ISSUE, master_stay(shift.request.shift_id)))
    finished = all(p in (LockPhase.DONE, LockPhase.STRAGGLER) for p in phases.values())
    status = ShiftStatus.COMPLETED if finished and shift.status is ShiftStatus.RUNNING else shift.status
    shift = changed_shift(shift, phases=phases, status=status)
    current = shift.request.shift_id if status is ShiftStatus.COMPLETED else state.current_shift
    return PropertyMasters(current_shift=current, shift=shift), commands


def _command(shift: MasterShift, lock_id: str, action: LockAction, stay: str) -> LockCommand:
    validity = None
    if action is LockAction.ISSUE:
        validity = Validity(starts_at=shift.started_at, ends_at=shift.started_at + timedelta(
            days=shift.request.valid_days))
    return LockCommand(action=action, lock=shift.locks[lock_id], stay=stay, sequence=1 if action is LockAction.ISSUE
                       else 2, kind=CredentialKind.PASSCODE, validity=validity,
                       cause=f"master_key.shift:{shift.request.shift_id}",
                       notify=ShiftRef(tenant=shift.request.tenant, property=shift.request.property,
                                       shift_id=shift.request.shift_id))
