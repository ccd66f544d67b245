"""``pms.reservations`` -> per-lock commands on ``lock.commands``, keeping each stay's state in ``stays``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from faust import StreamT

from agents.continuity import admitted, processed
from agents.dead_letters import dead_letter, parse_or_dead_letter
from app.credential_material import seal_mobile_account
from app.db_retry import until_database_answers
from app.domain.lock_event import LockCommand
from app.domain.reservation import ENDING_EVENTS, ReservationEvent
from app.domain.reservation_intake import intake
from app.domain.stay import step_stay
from app.metrics import UNKNOWN_RESERVATIONS
from app.runtime import runtime
from app.security.pseudonym import guest_ref
from app.streams import app, lock_commands, pms_reservations, publish_acked
from tables.sagas import read_stay, write_stay


@app.agent(pms_reservations, concurrency=1)
async def route_reservations(stream: StreamT[bytes]) -> AsyncIterator[list[dict[str, Any]]]:
    async for event in stream.events():
        if not await admitted(event):
            continue
        received = datetime.fromtimestamp(event.message.timestamp, UTC)
        commands = await route_reservation(event.key, event.value, received)
        processed(event)
        yield [command.model_dump(mode="json") for command in commands]


async def route_reservation(key: str | None, value: bytes | None, received_at: datetime | None = None
                            ) -> list[LockCommand]:
    """Apply one PMS event to its stay and send the resulting lock commands; bad input becomes a dead letter.
    ``received_at`` (the record's Kafka timestamp) goes on the commands for the latency SLIs."""
    event: ReservationEvent | None = await parse_or_dead_letter(ReservationEvent, pms_reservations, key, value,
                                                                 "reservation event")
    if event is None:
        return []
    if key != event.stay_id:
        # A wrong key puts the stay on another partition than its other revisions: their order would be lost.
        await dead_letter(pms_reservations.get_topic_name(), key, value,
                          f"reservation event keyed {key!r}, not by its stay {event.stay_id!r}")
        return []
    rt = await runtime()
    directory = None
    if event.type not in ENDING_EVENTS:
        directory = await until_database_answers(
            lambda: rt.directory.property_directory(event.tenant, event.property))
    current = read_stay(event.stay_id)
    decision = intake(event, directory, stay_known=current is not None)
    if decision.unknown_reservation:
        UNKNOWN_RESERVATIONS.labels(event.type).inc()
    if decision.dead_letter is not None:
        await dead_letter(pms_reservations.get_topic_name(), key, value, decision.dead_letter)
    if not decision.apply:
        return []
    locks = directory.locks_for_stay(decision.rooms) if directory is not None else []
    guest = guest_ref(rt.keys, event.tenant, event.guest_id) if event.guest_id else None
    account = event.mobile_key_account
    sealed = seal_mobile_account(rt.keys, event.tenant, event.stay_id, account) if account else None
    stay, commands = step_stay(current, event, locks, guest, sealed, decision.validity, received_at)
    # Commands are acknowledged by the broker before the stay is written: a crash in between replays the event
    # and the lock sagas ignore the repeated commands, while the other order could lose them.
    for command in commands:
        await publish_acked(lock_commands, command.lock.key, command)
    write_stay(event.stay_id, stay)
    return commands
