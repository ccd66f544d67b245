"""Sending unprocessable input to ``lock.dlq`` with the reason: nothing is dropped silently."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, TypeVar

import faust
from aiokafka.errors import KafkaError
from faust import TopicT
from pydantic import TypeAdapter, ValidationError
from tenacity import AsyncRetrying, retry_if_exception_type, wait_random_exponential

from app.domain.dead_letter import KEY_MAX_CHARS, encoded, letter_for
from app.metrics import DEAD_LETTERS
from app.schema_registry import header_refusal
from app.settings import settings
from app.streams import lock_dlq

log = logging.getLogger(__name__)
T = TypeVar("T")


async def dead_letter(source_topic: str, key: str | None, value: bytes | None, reason: str) -> None:
    """Publish a bounded letter for the record being processed (its position, digest and, when small, the value)
    and wait until the broker has it, retrying for as long as it takes: the record's offset is not committed past
    before its letter is on ``lock.dlq``."""
    event = faust.current_event()
    message = event.message if event is not None else None
    letter = letter_for(source_topic, message.partition if message else None, message.offset if message else None,
                        key, value, reason, datetime.now(UTC))
    log.warning("dead letter from %s key=%s: %s", source_topic, (key or "")[:80], reason.splitlines()[0][:200])
    retrying = AsyncRetrying(retry=retry_if_exception_type(KafkaError), wait=wait_random_exponential(0.2, max=5),
                             before_sleep=lambda state: log.warning("dead letter not accepted yet, retrying"))
    async for attempt in retrying:
        with attempt:
            sent = await lock_dlq.send(key=(key or "")[:KEY_MAX_CHARS], value=encoded(letter))
            await sent
    DEAD_LETTERS.labels(source_topic).inc()


async def parse_or_dead_letter(schema: TypeAdapter[T] | type[Any], topic: TopicT, key: str | None,
                               value: bytes | None, what: str) -> T | None:
    """The message parsed with ``schema`` (a pydantic model or TypeAdapter), or None after dead-lettering it with the
    reason: a schema id in its header this worker cannot read, or the validation errors."""
    adapter = schema if isinstance(schema, TypeAdapter) else TypeAdapter(schema)
    event = faust.current_event()
    name = topic.get_topic_name()
    refusal = header_refusal(event.headers if event is not None else None, name.removeprefix(settings.topic_prefix))
    if refusal is not None:
        await dead_letter(name, key, value, f"unreadable {what}: {refusal}")
        return None
    try:
        parsed: T = adapter.validate_json(value or b"")
    except ValidationError as err:
        await dead_letter(topic.get_topic_name(), key, value, malformed_reason(what, err))
        return None
    return parsed


def malformed_reason(what: str, err: ValidationError) -> str:
    """The validation errors, field by field, without the input: pydantic's own text quotes the values it refused
    (``input_value=…``), which for a PMS event are guest names and ids, and reasons are shown to operators."""
    problems = err.errors(include_input=False, include_url=False, include_context=False)
    lines = [f"{'.'.join(str(part) for part in problem['loc']) or '(record)'}: {problem['msg']} [{problem['type']}]"
             for problem in problems]
    return f"malformed {what}: {len(problems)} validation error(s)\n" + "\n".join(lines)
