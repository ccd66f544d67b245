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

from app.domain.dead_letter import DeadLetterRecord, matches, parse
from app.settings import settings
from app.topic_io import read_topic


@dataclass(frozen=True)
class Letter:
    """A dead letter and where it sits on ``lock.dlq``."""

    partition: int
    offset: int
    record: DeadLetterRecord

    @property
    def position(self) -> str:
        return f"{self.partition}:{self.offset}"

    @property
    def source_topic(self) -> str:
        return self.record.source_topic

    @property
    def reason(self) -> str:
        return self.record.reason

    @property
    def key(self) -> str | None:
        return self.record.key

    @property
    def value(self) -> str | None:
        """The original value as text, when the letter carries it inline."""
        inline = self.record.inline
        return inline.decode("utf-8", errors="replace") if inline is not None else None

    def listed(self) -> dict[str, Any]:
        """What ``lis dlq list --json`` prints for it."""
        return {"position": self.position, "partition": self.partition, "offset": self.offset,
                **self.record.model_dump(mode="json", exclude_none=True)}


async def read_letters(bootstrap: str, *, contains: str = "", timeout_s: float = 60.0) -> list[Letter]:
    """Every dead letter on the DLQ topic (from the start to the current end), filtered by reason text."""
    records = await read_topic(bootstrap, settings.topic("lock.dlq"), timeout_s=timeout_s)
    letters = [Letter(record.partition, record.offset, parse(record.value or b"{}")) for record in records]
    return [letter for letter in letters if contains in letter.reason]


def replay_value(letter: Letter, original: bytes) -> bytes:
    """The value to send back: lock commands are marked as a replay, anything else goes back unchanged."""
    if letter.source_topic == settings.topic("lock.commands"):
        command = json.loads(original)
        command["replay"] = True
        return json.dumps(command).encode()
    return original


async def original_value(bootstrap: str, letter: Letter) -> bytes | None:
    """The record a letter stands for: inline, or read back from its source topic at its offset (checked against
    the letter's digest); None when the source no longer retains it."""
    inline = letter.record.inline
    if inline is not None or letter.record.source_offset is None or letter.record.source_partition is None:
        return inline
    tp = TopicPartition(letter.source_topic, letter.record.source_partition)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None,
                                max_partition_fetch_bytes=16 * 1024 * 1024)
    await consumer.start()
    try:
        consumer.assign([tp])
        consumer.seek(tp, letter.record.source_offset)
        batch = (await consumer.getmany(tp, timeout_ms=10_000, max_records=1)).get(tp, [])
    finally:
        await consumer.stop()
    found: bytes = batch[0].value or b"" if batch and batch[0].offset == letter.record.source_offset else b""
    return found if found and matches(letter.record, found) else None


async def replay(bootstrap: str, letters: list[Letter]) -> int:
    """Send each letter's original value back to its source topic under its original key; returns the count
    (a letter whose value is neither inline nor still on its source topic is skipped)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
                                max_request_size=16 * 1024 * 1024)
    await producer.start()
    sent = 0
    try:
        for letter in letters:
            original = await original_value(bootstrap, letter)
            if original is None:
                continue
            await producer.send_and_wait(letter.source_topic, key=(letter.key or "").encode(),
                                         value=replay_value(letter, original))
            sent += 1
    finally:
        await producer.stop()
    return sent
