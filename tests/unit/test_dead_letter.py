"""Dead letters stay bounded whatever was sent, and lose nothing: small values inline (text or base64), larger ones
by position and digest."""

from __future__ import annotations

import hashlib
import json
import random
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.dead_letter import INLINE_MAX_BYTES, LETTER_MAX_BYTES, encoded, letter_for, matches, parse

NOW = datetime(2026, 12, 2, tzinfo=UTC)


def test_a_small_json_value_travels_inline_as_text() -> None:
    letter = letter_for("pms.reservations", 2, 41, "t/p/R1", b'{"event_id": "x"}', "malformed", NOW)
    assert (letter.value, letter.source_partition, letter.source_offset) == ('{"event_id": "x"}', 2, 41)
    assert parse(encoded(letter)).inline == b'{"event_id": "x"}'


def test_small_binary_travels_inline_as_base64_and_comes_back_byte_for_byte() -> None:
    value = bytes(range(256)) * 10
    letter = parse(encoded(letter_for("pms.reservations", 0, 1, None, value, "malformed", NOW)))
    assert letter.value is None
    assert letter.inline == value


def test_a_five_megabyte_payload_leaves_a_bounded_letter_that_still_identifies_it() -> None:
    value = random.Random(5).randbytes(5 * 1024 * 1024)
    letter = letter_for("pms.reservations", 3, 7, "k", value, "malformed reservation event: " + "x" * 100_000, NOW)
    data = encoded(letter)
    assert len(data) <= LETTER_MAX_BYTES
    assert letter.inline is None
    assert (letter.value_size, letter.value_sha256) == (len(value), hashlib.sha256(value).hexdigest())
    assert matches(letter, value)
    assert not matches(letter, value[:-1])
    assert len(json.loads(data)["reason"]) <= 2000


@settings(max_examples=60, deadline=None)
@given(size=st.integers(min_value=0, max_value=3 * INLINE_MAX_BYTES), seed=st.integers(0, 2**32),
       kind=st.sampled_from(["random", "quotes", "control", "unicode"]), key=st.text(max_size=2000))
def test_any_value_gives_a_letter_under_the_bound_that_carries_or_points_at_it(size: int, seed: int, kind: str,
                                                                            key: str) -> None:
    rng = random.Random(seed)
    # JSON escapes quotes twice as long and control characters six times: the worst cases next to random bytes.
    value = {"random": rng.randbytes(size), "quotes": b'"' * size, "control": b"\x01" * size,
             "unicode": ("\u2028" * (size // 3)).encode()}[kind]
    size = len(value)
    letter = parse(encoded(letter_for("pms.reservations", 1, 99, key, value, "why", NOW)))
    assert len(encoded(letter)) <= LETTER_MAX_BYTES
    assert letter.inline == value if size <= INLINE_MAX_BYTES else matches(letter, value)
