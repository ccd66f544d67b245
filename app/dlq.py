"""``lis dlq list`` and ``lis dlq replay``: inspect dead letters and send them back to where they came from.

A dead letter keeps the original key and value and the reason. Replaying a lock command marks it ``replay`` so the
saga tries a step it had settled as failed; a PMS event is replayed as it was (the stay saga ignores what it has
already applied).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from app.settings import settings


@dataclass(frozen=True)
class Letter:
    partition: int
    offset: int
    key: str | None
    source_topic: str
    reason: str
    value: str | None
    failed_at: str

    @property
    def position(self) -> str:
        return f"{self.partition}:{self.offset}"


async def read_letters(bootstrap: str, *, contains: str = "") -> list[Letter]:
    """Every dead letter on the DLQ topic (from the start to the current end), filtered by reason text."""
    topic = settings.topic("lock.dlq")
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await consumer.start()
    letters: list[Letter] = []
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or await _partitions(
            consumer, topic)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        remaining = {tp for tp in partitions if ends[tp] > 0}
        while remaining:
            for tp, records in (await consumer.getmany(timeout_ms=1000)).items():
                for record in records:
                    letters.append(_letter(record.partition, record.offset, json.loads(record.value)))
                    if record.offset >= ends[tp] - 1:
                        remaining.discard(tp)
    finally:
        await consumer.stop()
    return [letter for letter in letters if contains in letter.reason]


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()  # the topic may be unknown to a fresh client
    return consumer.partitions_for_topic(topic) or set()


def _letter(partition: int, offset: int, data: dict[str, Any]) -> Letter:
    return Letter(partition=partition, offset=offset, key=data.get("key"), source_topic=data["source_topic"],
                  reason=data["reason"], value=data.get("value"), failed_at=data.get("failed_at", ""))


def replay_value(letter: Letter) -> bytes:
    """The value to send back: lock commands are marked as a replay, anything else goes back unchanged."""
    assert letter.value is not None
    if letter.source_topic == settings.topic("lock.commands"):
        command = json.loads(letter.value)
        command["replay"] = True
        return json.dumps(command).encode()
    return letter.value.encode()


async def replay(bootstrap: str, letters: list[Letter]) -> int:
    """Send each letter's original value back to its source topic under its original key; returns the count."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    sent = 0
    try:
        for letter in letters:
            if letter.value is None:
                continue
            await producer.send_and_wait(letter.source_topic, key=(letter.key or "").encode(),
                                         value=replay_value(letter))
            sent += 1
    finally:
        await producer.stop()
    return sent
