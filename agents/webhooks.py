"""``vendor.webhooks`` -> each lock's condition in ``lock_status`` and canonical lock events on ``lock.events``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from faust import StreamT

from agents.continuity import admitted, processed
from agents.dead_letters import dead_letter, parse_or_dead_letter
from app.domain.credential import lock_key
from app.domain.lock_status import LockStatusEvent, VendorEventType, VendorWebhook, step_lock_status
from app.streams import app, lock_events, send_model, vendor_webhooks
from tables.lock_status import read_lock_condition, write_lock_condition

log = logging.getLogger(__name__)


@app.agent(vendor_webhooks, concurrency=1)
async def apply_vendor_webhooks(stream: StreamT[bytes]) -> AsyncIterator[list[dict[str, Any]]]:
    # concurrency=1: faust-streaming #606, and the webhooks of one lock must be applied in order.
    async for event in stream.events():
        if not await admitted(event):
            continue
        events = await apply_vendor_webhook(event.key, event.value)
        processed(event)
        yield [event.model_dump(mode="json") for event in events]


async def apply_vendor_webhook(key: str | None, value: bytes | None) -> list[LockStatusEvent]:
    """Apply one verified vendor webhook to its lock and emit what changed; bad input becomes a dead letter."""
    webhook: VendorWebhook | None = await parse_or_dead_letter(VendorWebhook, vendor_webhooks, key, value,
                                                                "vendor webhook")
    if webhook is None:
        return []
    expected = lock_key(webhook.tenant, webhook.region, webhook.lock_id)
    if key != expected:
        # A wrong key would put the lock's state on another partition than its other webhooks: refuse it.
        await dead_letter(vendor_webhooks.get_topic_name(), key, value, f"vendor webhook keyed {key!r}, "
                          f"its lock is {expected!r}")
        return []
    condition, events = step_lock_status(read_lock_condition(key), webhook)
    for report in webhook.events:
        if report.type is VendorEventType.UNKNOWN:
            log.info("unrecognised %s report %s on lock %s recorded", webhook.vendor, report.vendor_type, key)
    # Events are acknowledged before the condition is written: a crash in between redelivers the webhook, which
    # re-emits the same event ids (consumers de-duplicate), while the other order could lose the events.
    sent = [await send_model(lock_events, key, event) for event in events]
    await asyncio.gather(*sent)
    write_lock_condition(key, condition)
    return events
