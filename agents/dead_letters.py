"""Sending unprocessable input to ``lock.dlq`` with the reason: nothing is dropped silently."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any, TypeVar

from faust import TopicT
from pydantic import TypeAdapter, ValidationError

from app.streams import lock_dlq

log = logging.getLogger(__name__)
T = TypeVar("T")


async def dead_letter(source_topic: str, key: str | None, value: bytes | None, reason: str) -> None:
    """Publish the original key and value with ``reason``, and wait until the broker has it."""
    letter = {
        "reason": reason,
        "source_topic": source_topic,
        "key": key,
        "value": value.decode("utf-8", errors="replace") if value is not None else None,
        "failed_at": datetime.now(UTC).isoformat(),
    }
    log.warning("dead letter from %s key=%s: %s", source_topic, key, reason.splitlines()[0][:200])
    sent = await lock_dlq.send(key=key or "", value=json.dumps(letter).encode())
    await sent


async def parse_or_dead_letter(schema: TypeAdapter[T] | type[Any], topic: TopicT, key: str | None,
                               value: bytes | None, what: str) -> T | None:
    """The message parsed with ``schema`` (a pydantic model or TypeAdapter), or None after dead-lettering it with the
    validation errors as the reason."""
    adapter = schema if isinstance(schema, TypeAdapter) else TypeAdapter(schema)
    try:
        parsed: T = adapter.validate_json(value or b"")
    except ValidationError as err:
        await dead_letter(topic.get_topic_name(), key, value, f"malformed {what}: {err}")
        return None
    return parsed
