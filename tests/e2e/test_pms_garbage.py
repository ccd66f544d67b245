"""Property test of the PMS input: random payloads — random bytes, random JSON, cut-off events — of random sizes up
to 5 MB, among valid confirmations. Every record is processed or dead-lettered (the processed-offset ledger holds
every offset; each bad record has a letter naming its offset and digest), the valid guests get their keys, and the
worker never crashes."""

from __future__ import annotations

import hashlib
import json
import os
import random
from typing import Any

import pytest

from tests.pipeline import Pipeline, distinct

SEED = int(os.environ.get("LIS_GARBAGE_SEED", "20261202"))
GARBAGE, VALID = 30, 10
MAX_BYTES = 5 * 1024 * 1024
pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow, pytest.mark.pipeline(rooms=VALID, ledger=True)]


def garbage(rng: random.Random, valid: bytes) -> bytes:
    size = int(rng.random() ** 3 * MAX_BYTES)  # most small, some of several MB
    kind = rng.choice(("bytes", "json", "cut"))
    if kind == "bytes":
        return rng.randbytes(size)
    if kind == "json":
        return json.dumps({"event_id": "x" * rng.randint(0, 200), "rooms": ["1" * 8] * (size // 12)}).encode()
    return valid[: rng.randint(0, len(valid) - 1)]


async def test_every_random_payload_is_processed_or_dead_lettered_and_the_worker_survives(pipeline: Pipeline) -> None:
    rng = random.Random(SEED)
    events = pipeline.confirmations(range(1, VALID + 1))
    sample = events[0].model_dump_json().encode()
    bad = [(f"junk-{n}", garbage(rng, sample)) for n in range(GARBAGE)]
    mixed: list[Any] = [*bad[:15], *events[:5], *bad[15:], *events[5:]]
    await pipeline.publish(mixed)

    issued = await pipeline.read("lock.events", until=lambda rs: len(distinct(rs, "key.issued")) >= VALID)
    assert len(distinct(issued, "key.issued")) == VALID
    ledger = pipeline.ledger_path
    skipped = await pipeline.unprocessed_offsets(ledger, ["pms.reservations"])
    assert skipped == {}, f"records neither processed nor dead-lettered: {skipped}"

    listed = [json.loads(line) for line in pipeline.lis("dlq", "list", "--json").splitlines()]
    letters = [letter for letter in listed if letter["source_topic"] == pipeline.topic("pms.reservations")]
    digests = {letter.get("value_sha256") for letter in letters}
    assert len(letters) == GARBAGE
    assert digests == {hashlib.sha256(value).hexdigest() for _, value in bad}
    assert all(letter.get("source_offset") is not None for letter in letters)
    assert all(worker.poll() is None for worker in pipeline.workers), "the worker crashed"
    sizes = sorted(len(value) for _, value in bad)
    print(f"garbage seed={SEED}: {GARBAGE} payloads of {sizes[0]}..{sizes[-1]} bytes, all dead-lettered")
