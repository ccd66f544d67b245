"""Schema ids on the wire (app/schema_registry.py): the worker stamps what it writes with ``lis-schema-id``, and a
PMS event whose header names a schema this worker does not know — a newer producer's, or another topic's — is a dead
letter with that reason, not a guess; one with a known id or with no header at all is read as usual."""

from __future__ import annotations

import json

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from app.schema_registry import SCHEMA_HEADER, load_catalogue
from tests.pipeline import Pipeline, distinct

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow, pytest.mark.pipeline(rooms=4)]


async def test_unknown_schema_ids_are_dead_lettered_and_the_worker_stamps_its_records(pipeline: Pipeline) -> None:
    catalogue = load_catalogue()
    reservations, lock_events = catalogue.latest("pms.reservations"), catalogue.latest("lock.events")
    assert reservations is not None
    assert lock_events is not None
    headers: list[list[tuple[str, bytes]]] = [
        [(SCHEMA_HEADER, str(reservations.id).encode())], [], [(SCHEMA_HEADER, b"999")],
        [(SCHEMA_HEADER, str(lock_events.id).encode())]]
    events = pipeline.confirmations(range(1, 5))
    producer = AIOKafkaProducer(bootstrap_servers=pipeline.stack.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for event, header in zip(events, headers, strict=True):
            await producer.send_and_wait(pipeline.topic("pms.reservations"), key=event.stay_id.encode(),
                                         value=event.model_dump_json().encode(), headers=header)
    finally:
        await producer.stop()

    issued = await pipeline.read("lock.events", until=lambda rs: len(distinct(rs, "key.issued")) >= 2)
    assert sorted(e["stay"] for e in distinct(issued, "key.issued").values()) == [e.stay_id for e in events[:2]]
    letters = await pipeline.read("lock.dlq", until=lambda rs: len(rs) >= 2, timeout_s=60)
    reasons = {letter["key"]: letter["reason"] for letter in letters}
    assert "unknown schema id '999'" in reasons[events[2].stay_id]
    assert f"schema id {lock_events.id} is lock.events v{lock_events.version}" in reasons[events[3].stay_id]

    consumer = AIOKafkaConsumer(pipeline.topic("lock.events"), bootstrap_servers=pipeline.stack.kafka_bootstrap,
                                auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=5000)
    finally:
        await consumer.stop()
    stamps = {dict(record.headers).get(SCHEMA_HEADER) for batch in batches.values() for record in batch
              if json.loads(record.value)["type"].startswith("key.")}
    assert stamps == {str(lock_events.id).encode()}, "every lock event names the schema it was written with"
