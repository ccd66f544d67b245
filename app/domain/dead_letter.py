"""Dead letters on ``lock.dlq``, bounded in size and lossless.

A letter carries the reason, where the record came from (topic, partition, offset), its key, and its value's size
and SHA-256. The value itself is inline when it is small (as text when it is UTF-8, else base64); a larger one keeps
only its head, and the full value stays retrievable from its source topic at that offset for as long as the topic
retains it (``lis dlq replay`` reads it from there and checks the digest). So a letter never exceeds
:data:`LETTER_MAX_BYTES`, whatever was sent: a dead letter that the broker refuses for its size would lose the record.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime

from pydantic import AwareDatetime

from app.domain.credential import Frozen

INLINE_MAX_BYTES = 64 * 1024  # values up to this size travel inside the letter
HEAD_BYTES = 1024  # what a letter shows of a larger value
REASON_MAX_CHARS = 2000
KEY_MAX_CHARS = 512
LETTER_MAX_BYTES = 4 * INLINE_MAX_BYTES  # base64 and JSON escaping of an inline value stay well below this


class DeadLetterRecord(Frozen):
    reason: str
    source_topic: str
    source_partition: int | None = None
    source_offset: int | None = None
    key: str | None = None
    value: str | None = None  # the original value as text, when it is UTF-8 and small
    value_base64: str | None = None  # the original value, when it is small but not UTF-8
    value_head: str | None = None  # the start of a larger value (its bytes decoded leniently), for reading
    value_size: int | None = None
    value_sha256: str | None = None
    failed_at: AwareDatetime

    @property
    def inline(self) -> bytes | None:
        """The original value when the letter carries it whole."""
        if self.value is not None:
            return self.value.encode()
        if self.value_base64 is not None:
            return base64.b64decode(self.value_base64)
        return None


def letter_for(source_topic: str, partition: int | None, offset: int | None, key: str | None, value: bytes | None,
               reason: str, now: datetime) -> DeadLetterRecord:
    """The dead letter of one record, never larger than :data:`LETTER_MAX_BYTES` once serialised."""
    fields: dict[str, object] = {}
    if value is not None:
        fields = {"value_size": len(value), "value_sha256": hashlib.sha256(value).hexdigest()}
        if len(value) <= INLINE_MAX_BYTES:
            text = _plain_text(value)
            if text is not None:
                fields["value"] = text
            else:
                fields["value_base64"] = base64.b64encode(value).decode()
        else:
            fields["value_head"] = value[:HEAD_BYTES].decode("utf-8", errors="replace")
    return DeadLetterRecord(reason=_cut(reason, REASON_MAX_CHARS), source_topic=source_topic,
                            source_partition=partition, source_offset=offset,
                            key=_cut(key, KEY_MAX_CHARS) if key is not None else None, failed_at=now, **fields)


def encoded(letter: DeadLetterRecord) -> bytes:
    """The letter as published; should it still exceed the bound, it keeps only the value's head and digest."""
    data = letter.model_dump_json(exclude_none=True).encode()
    if len(data) <= LETTER_MAX_BYTES:
        return data
    original = letter.inline or b""
    smaller = letter.model_copy(update={"value": None, "value_base64": None,
                                        "value_head": original[:HEAD_BYTES].decode("utf-8", errors="replace")})
    return smaller.model_dump_json(exclude_none=True).encode()


def _plain_text(value: bytes) -> str | None:
    """The value as text when it is UTF-8 without control characters (which JSON escapes six times longer)."""
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(ord(char) < 0x20 and char not in "\n\r\t" for char in text):
        return None
    return text


def matches(letter: DeadLetterRecord, value: bytes) -> bool:
    """Whether ``value`` (read back from the source topic) is the record the letter stands for."""
    return letter.value_sha256 == hashlib.sha256(value).hexdigest()


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 20] + f"… [{len(text)} chars]"


def parse(raw: bytes) -> DeadLetterRecord:
    """A letter as read from ``lock.dlq`` (letters written before sizes were bounded carry no digest)."""
    data = json.loads(raw)
    return DeadLetterRecord.model_validate(data)
