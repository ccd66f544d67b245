"""Reading a whole topic and sending to one, for the command line, the audit and the drills: bounded in time, on
aiokafka's public API only (no consumer group, nothing committed)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

Send = Callable[[str, str], Awaitable[None]]
"""Send one record (key, text value) and return once the broker has it."""


@dataclass(frozen=True, slots=True)
class TopicRecord:
    """One record of a topic, where it sits in it, and what it holds."""

    partition: int
    offset: int
    key: str | None
    value: bytes


async def read_topic(bootstrap: str, topic: str, *, timeout_s: float = 60.0) -> list[TopicRecord]:
    """Every record of ``topic`` up to its current end, in offset order within each partition."""
    # Subscribed without a group, the consumer is assigned every partition of the topic once metadata arrives.
    # No committed offsets without a group: "earliest" starts each partition at its beginning.
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        deadline = time.monotonic() + timeout_s
        partitions = await _partitions(consumer, topic, deadline)
        ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
        records: list[TopicRecord] = []
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {topic} did not reach its end within {timeout_s} s")
            for tp, batch in (await consumer.getmany(*partitions, timeout_ms=500)).items():
                records.extend(TopicRecord(tp.partition, r.offset, r.key.decode() if r.key is not None else None,
                                           r.value or b"") for r in batch if r.offset < ends[tp])
        return sorted(records, key=lambda r: (r.partition, r.offset))
    finally:
        await consumer.stop()


@asynccontextmanager
async def topic_sender(bootstrap: str, topic: str) -> AsyncIterator[Send]:
    """A :data:`Send` for ``topic`` that returns once every in-sync replica has the record."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()

    async def send(key: str, value: str) -> None:
        await producer.send_and_wait(topic, key=key.encode(), value=value.encode())

    try:
        yield send
    finally:
        await producer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str, deadline: float) -> list[TopicPartition]:
    """The topic's partitions, once the consumer has them assigned (a topic just created may take a moment)."""
    while not consumer.assignment():
        if time.monotonic() > deadline:
            raise TimeoutError(f"topic {topic} has no partitions")
        await asyncio.sleep(0.1)
    return sorted(consumer.assignment(), key=lambda tp: tp.partition)
