"""Whether a record continues its source partition: the pure rule behind the per-agent offset ledger.

Each agent that owns state remembers the last offset it processed per source partition, written in the same step as
its state. A record right after it (or the first one ever seen) continues the partition; one at or below it is a
redelivery, processed again (every step is idempotent); one further ahead is a jump over records no worker
processed — unless the broker holds none there (compaction, transaction markers), which only the broker can say.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Continuity(StrEnum):
    NEXT = "next"  # the offset right after the last one processed, or the first one ever seen
    REDELIVERED = "redelivered"  # at or below the last one processed: processed again, idempotently
    JUMP = "jump"  # past offsets no worker processed, unless the broker holds no record there


@dataclass(frozen=True)
class Verdict:
    continuity: Continuity
    missing_from: int = 0  # first offset of a jump's hole
    missing_to: int = 0  # the offset the fetch jumped to (the hole is [missing_from, missing_to))


def continuity_of(last_processed: int | None, offset: int) -> Verdict:
    """How ``offset`` relates to the last offset processed on its partition (None before the first)."""
    if last_processed is None or offset == last_processed + 1:
        return Verdict(Continuity.NEXT)
    if offset <= last_processed:
        return Verdict(Continuity.REDELIVERED)
    return Verdict(Continuity.JUMP, missing_from=last_processed + 1, missing_to=offset)


def ledger_key(topic: str, partition: int) -> str:
    """The ledger's key of a source partition."""
    return f"{topic}/{partition}"
