"""``stream_offsets``: the last offset each stateful agent processed per source partition, its own offset ledger.

Written in the same processing step as the agent's state, so it survives exactly what the state survives and
does not depend on Faust's offset bookkeeping. A table write goes to the changelog partition of the record being
processed, so the ledger of a partition lives with the partition and moves with it on a rebalance. Values are the
offset as ASCII digits.
"""

from __future__ import annotations

from app.streams import app

stream_offsets = app.Table("stream_offsets", default=None, key_type=str, value_type=bytes,
                           help="Last offset processed by each stateful agent per source topic partition")


def last_processed(key: str) -> int | None:
    raw: bytes | None = stream_offsets.get(key)
    return int(raw) if raw is not None else None


def record_processed(key: str, offset: int) -> None:
    """Remember ``offset`` unless a later one is already recorded (a redelivery never moves the ledger back)."""
    last = last_processed(key)
    if last is None or offset > last:
        stream_offsets[key] = str(offset).encode()
