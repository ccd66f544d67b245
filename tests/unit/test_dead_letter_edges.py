"""Edges of dead letters: the exact size limits, what an operator reads of a cut reason, key and large value,
which text travels as text, and the safety net of ``encoded`` for a letter that is still too large."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime

import pytest

from app.domain.dead_letter import (
    HEAD_BYTES,
    INLINE_MAX_BYTES,
    KEY_MAX_CHARS,
    LETTER_MAX_BYTES,
    REASON_MAX_CHARS,
    DeadLetterRecord,
    encoded,
    letter_for,
    matches,
    parse,
)

NOW = datetime(2026, 12, 2, tzinfo=UTC)


def letter(value: bytes | None = b"{}", *, key: str | None = "t/p/R1", reason: str = "malformed") -> DeadLetterRecord:
    return letter_for("pms.reservations", 2, 41, key, value, reason, NOW)


def test_a_record_without_a_value_leaves_a_letter_with_its_position_and_key_only() -> None:
    got = letter(None)
    assert (got.source_topic, got.source_partition, got.source_offset, got.key) == ("pms.reservations", 2, 41,
                                                                                    "t/p/R1")
    assert (got.value, got.value_base64, got.value_head, got.value_size, got.value_sha256) == (None,) * 5


def test_a_value_of_exactly_the_inline_limit_still_travels_inline() -> None:
    value = b"a" * INLINE_MAX_BYTES
    assert letter(value).inline == value
    assert letter(value + b"a").inline is None


def test_a_large_value_shows_its_first_bytes_as_text_with_bad_bytes_replaced() -> None:
    value = b"\xff" + b"b" * (INLINE_MAX_BYTES + 10)
    got = letter(value)
    assert got.value_head == "\ufffd" + "b" * (HEAD_BYTES - 1)
    assert (got.value_size, got.value_sha256) == (len(value), hashlib.sha256(value).hexdigest())


@pytest.mark.parametrize("text", ["line one\nline two\r\n\tindented", "plain"])
def test_text_with_line_breaks_and_tabs_travels_as_text(text: str) -> None:
    got = letter(text.encode())
    assert (got.value, got.value_base64) == (text, None)


def test_text_with_other_control_characters_travels_as_base64_and_comes_back_exactly() -> None:
    value = b"bell\x07and nul\x00"
    got = letter(value)
    assert got.value is None
    assert got.value_base64 == base64.b64encode(value).decode()
    assert parse(encoded(got)).inline == value


@pytest.mark.parametrize(("limit", "field"), [(REASON_MAX_CHARS, "reason"), (KEY_MAX_CHARS, "key")])
def test_a_reason_or_key_of_exactly_its_limit_is_kept_whole(limit: int, field: str) -> None:
    text = "r" * limit
    got = letter(**{field: text})  # type: ignore[arg-type]
    assert getattr(got, field) == text


@pytest.mark.parametrize(("limit", "field"), [(REASON_MAX_CHARS, "reason"), (KEY_MAX_CHARS, "key")])
def test_a_longer_reason_or_key_keeps_its_start_and_says_how_long_it_was(limit: int, field: str) -> None:
    text = "".join(chr(ord("a") + i % 26) for i in range(limit * 3))
    cut = getattr(letter(**{field: text}), field)  # type: ignore[arg-type]
    note = f"… [{limit * 3} chars]"
    assert cut == text[: limit - 20] + note
    assert len(cut) <= limit


def test_a_short_reason_and_key_are_kept_as_they_are() -> None:
    got = letter(reason="malformed reservation event", key="t/p/R1")
    assert (got.reason, got.key) == ("malformed reservation event", "t/p/R1")


def test_the_published_letter_leaves_out_the_fields_it_does_not_have() -> None:
    published = json.loads(encoded(letter(b"{}", key=None)))
    assert None not in published.values()
    assert "key" not in published


# The safety net of ``encoded``: ``letter_for`` never builds a letter this large (its parts are bounded well below
# LETTER_MAX_BYTES), so these letters are built by hand, as one written before sizes were bounded would read.

def oversized(value: bytes, *, as_text: bool) -> DeadLetterRecord:
    inline = {"value": value.decode()} if as_text else {"value_base64": base64.b64encode(value).decode()}
    return DeadLetterRecord(reason="malformed", source_topic="pms.reservations", source_partition=1,
                            source_offset=9, value_size=len(value), value_sha256=hashlib.sha256(value).hexdigest(),
                            failed_at=NOW, **inline)


def test_a_letter_still_too_large_keeps_only_its_values_head_and_digest() -> None:
    value = b"x" * (LETTER_MAX_BYTES + 1)
    data = encoded(oversized(value, as_text=True))
    assert len(data) <= LETTER_MAX_BYTES
    published = json.loads(data)
    assert None not in published.values()
    assert "value" not in published
    back = parse(data)
    assert (back.inline, back.value_head) == (None, "x" * HEAD_BYTES)
    assert matches(back, value)


def test_a_binary_letter_still_too_large_shows_its_head_with_bad_bytes_replaced() -> None:
    value = b"\xfe\xff" + b"y" * LETTER_MAX_BYTES
    back = parse(encoded(oversized(value, as_text=False)))
    assert back.value_base64 is None
    assert back.value_head == "\ufffd\ufffd" + "y" * (HEAD_BYTES - 2)


def test_a_letter_of_exactly_the_bound_is_published_as_it_is() -> None:
    bare = len(oversized(b"", as_text=True).model_dump_json(exclude_none=True).encode())
    fitting = oversized(b"z" * (LETTER_MAX_BYTES - bare), as_text=True)
    fitting = fitting.model_copy(update={"value_size": None, "value_sha256": None})
    pad = LETTER_MAX_BYTES - len(fitting.model_dump_json(exclude_none=True).encode())
    fitting = fitting.model_copy(update={"value": (fitting.value or "") + "z" * pad})
    data = encoded(fitting)
    assert len(data) == LETTER_MAX_BYTES
    assert parse(data).value == fitting.value
