"""``ops.commands`` -> master-key shifts: fan the new master out to a property's locks, revoke the old one behind it,
and publish progress on ``lock.events``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from faust import StreamT
from pydantic import TypeAdapter

from agents.continuity import admitted, processed
from agents.dead_letters import dead_letter, parse_or_dead_letter
from app.db_retry import until_database_answers
from app.domain.credential import LockRef
from app.domain.master_shift import OpsCommand, ShiftProgress, ShiftRequested, progress_of, step_shift
from app.metrics import SHIFT_LOCKS
from app.runtime import runtime
from app.streams import app, lock_commands, lock_events, ops_commands, publish_acked, send_model
from tables.master_keys import read_masters, write_masters

OPS_COMMAND: TypeAdapter[OpsCommand] = TypeAdapter(OpsCommand)


@app.agent(ops_commands, concurrency=1)
async def shift_master_keys(stream: StreamT[bytes]) -> AsyncIterator[dict[str, Any]]:
    async for event in stream.events():
        if not await admitted(event):
            continue
        progress = await apply_ops_command(event.key, event.value)
        processed(event)
        yield progress


async def apply_ops_command(key: str, value: bytes | None) -> dict[str, Any]:
    """Apply one ops command or lock report to the property's master-key state; returns the progress published."""
    command = await parse_or_dead_letter(OPS_COMMAND, ops_commands, key, value, "ops command")
    if command is None:
        return {}
    locks: list[LockRef] = []
    if isinstance(command, ShiftRequested):
        rt = await runtime()
        directory = await until_database_answers(
            lambda: rt.directory.property_directory(command.tenant, command.property))
        if directory is None:
            await dead_letter(ops_commands.get_topic_name(), key, value,
                              f"unknown property {command.tenant}/{command.property}")
            return {}
        locks = [directory.ref(lock) for lock in directory.locks]
    state, commands = step_shift(read_masters(key), command, locks, datetime.now(UTC))
    # Lock commands are acknowledged before the state is written: a replay re-sends them, and lock sagas ignore
    # what they already applied.
    for lock_command in commands:
        await publish_acked(lock_commands, lock_command.lock.key, lock_command)
    write_masters(key, state)
    if state.shift is None:
        return {}
    progress = progress_of(state.shift)
    await send_model(lock_events, key, progress)
    record_progress(progress)
    return progress.model_dump(mode="json")


def record_progress(progress: ShiftProgress) -> None:
    """The shift's locks by phase as gauges (``lis_master_key_shift_locks``), as published on ``lock.events``."""
    for phase, count in progress.counts.items():
        SHIFT_LOCKS.labels(progress.tenant, progress.property, phase).set(count)

