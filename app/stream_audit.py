"""The end-to-end stream audit, read from the topics themselves: ``pms.reservations`` against the stay and lock
saga tables' changelogs (the tables' durable form), without the dead-lettered input; differences re-driven.

Run by ``lis audit-stream`` and, every ``LIS_STREAM_AUDIT_S``, by the worker that owns partition 0 of
``pms.reservations`` (``agents/stream_audit.py``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TypeVar

from aiokafka import AIOKafkaProducer
from pydantic import BaseModel, ValidationError

from app.dlq import read_letters
from app.domain.lock_saga import LockSaga
from app.domain.reservation import ReservationEvent
from app.domain.stay import Stay
from app.domain.stream_audit import Difference, find_differences
from app.schema_registry import kafka_headers
from app.settings import settings
from app.topic_io import TopicRecord, read_topic

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class StreamAudit:
    stays_checked: int
    differences: list[Difference]
    redriven: int  # records published to re-drive the differences


async def audit_stream(tenant: str | None, *, redrive: bool, timeout_s: float = 120.0) -> StreamAudit:
    """Compare ``tenant``'s (every tenant's, for None) PMS events with the tables; re-drive unless ``redrive`` is
    False."""
    bootstrap, pms = settings.kafka_bootstrap_servers, settings.topic("pms.reservations")
    dead = {_event_id(letter.value) for letter in await read_letters(bootstrap) if letter.source_topic == pms}
    inputs: list[tuple[TopicRecord, ReservationEvent]] = []
    for record in await read_topic(bootstrap, pms, timeout_s=timeout_s):
        try:
            event = ReservationEvent.model_validate_json(record.value)
        except ValidationError:
            continue  # malformed input is dead-lettered by the reservations agent
        if (tenant is None or event.tenant == tenant) and event.event_id not in dead:
            inputs.append((record, event))
    stays = await _table("stays", Stay, timeout_s)
    sagas = await _table("lock_sagas", LockSaga, timeout_s)
    differences = find_differences([event for _, event in inputs], stays, sagas)
    redriven = await _redrive(differences, inputs) if redrive and differences else 0
    return StreamAudit(len({event.stay_id for _, event in inputs}), differences, redriven)


async def _table(name: str, model: type[M], timeout_s: float) -> dict[str, M]:
    """A Faust table's current content from its compacted changelog: the last value of each key wins (Faust
    writes a table's string keys as JSON strings)."""
    latest: dict[str, bytes] = {}
    for record in await read_topic(settings.kafka_bootstrap_servers, f"{settings.app_id}-{name}-changelog",
                                   timeout_s=timeout_s):
        if record.key is not None:
            latest[json.loads(record.key)] = record.value
    return {key: model.model_validate_json(value) for key, value in latest.items() if value}


async def _redrive(differences: list[Difference], inputs: list[tuple[TopicRecord, ReservationEvent]]) -> int:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all",
                                enable_idempotence=True)
    await producer.start()
    sent = 0
    try:
        stays = {d.stay for d in differences if d.lock_command is None}
        for record, event in inputs:  # in offset order: the stay saga sees the PMS revisions as they came
            if event.stay_id in stays:
                await producer.send(settings.topic("pms.reservations"), key=(record.key or "").encode(),
                                    value=record.value, headers=kafka_headers(event))
                sent += 1
        for difference in differences:
            if difference.lock_command is not None:
                command = difference.lock_command
                await producer.send(settings.topic("lock.commands"), key=command.lock.key.encode(),
                                    value=command.model_dump_json().encode(), headers=kafka_headers(command))
                sent += 1
        await producer.flush()
    finally:
        await producer.stop()
    return sent


def _event_id(value: str | None) -> str | None:
    try:
        parsed = json.loads(value or "")
    except ValueError:
        return None
    return parsed.get("event_id") if isinstance(parsed, dict) else None
