"""Sending unprocessable input to ``lock.dlq`` with the reason: nothing is dropped silently."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from app.streams import lock_dlq

log = logging.getLogger(__name__)


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
