"""The webhook agent under Faust's ``test_context``: vendor webhooks in through an in-memory channel, the lock's
condition in the in-memory ``lock_status`` table, lock events and dead letters out through in-memory channels."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

import agents.dead_letters
import agents.webhooks
from app.domain.lock_status import LockCondition, VendorEvent, VendorEventType, VendorWebhook
from app.streams import app
from tables.lock_status import lock_status

KEY = "t1/eu-west/door-101"
T0 = datetime(2026, 12, 1, 10, tzinfo=UTC)


@pytest.fixture
async def channels(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[object, object]]:
    if app.conf.store.scheme != "memory":
        app.conf.store = "memory://"  # type: ignore[assignment]
    app.finalize()
    events, dead = app.channel(), app.channel()
    monkeypatch.setattr(agents.webhooks, "lock_events", events)
    monkeypatch.setattr(agents.dead_letters, "lock_dlq", dead)
    # A channel delivers only to its iterating clones: subscribe before the agent sends anything.
    yield events.__aiter__(), dead.__aiter__()
    lock_status.data.clear()


def webhook(webhook_id: str, *reports: tuple[VendorEventType, dict[str, object]]) -> bytes:
    events = tuple(VendorEvent.model_validate({"type": kind, "vendor_type": f"salto.{kind}",
                                               "occurred_at": T0 + timedelta(minutes=n), **fields})
                   for n, (kind, fields) in enumerate(reports))
    return VendorWebhook(webhook_id=webhook_id, vendor="salto", tenant="t1", region="eu-west", property="p1",
                         lock_id="door-101", vendor_lock_id="AP-1", received_at=T0,
                         events=events).model_dump_json().encode()


async def drain(channel: object, count: int) -> list[dict[str, object]]:
    return [json.loads((await channel.get()).value) for _ in range(count)]  # type: ignore[attr-defined]


def condition() -> LockCondition:
    return LockCondition.model_validate_json(lock_status[KEY])


async def test_offline_then_online_emits_two_status_changes_keyed_by_lock_and_keeps_the_condition(
    channels: tuple[object, object],
) -> None:
    events, _ = channels
    async with agents.webhooks.apply_vendor_webhooks.test_context() as agent:
        await agent.put(key=KEY, value=webhook("m1", (VendorEventType.LOCK_OFFLINE, {})))
        await agent.put(key=KEY, value=webhook("m2", (VendorEventType.LOCK_ONLINE, {})))
        emitted = await drain(events, 2)
        assert [(e["type"], e["online"], e["lock_id"]) for e in emitted] == [
            ("lock.status_changed", False, "door-101"), ("lock.status_changed", True, "door-101")]
        assert condition().online is True


async def test_a_redelivered_webhook_emits_nothing_more(channels: tuple[object, object]) -> None:
    events, _ = channels
    hook = webhook("m1", (VendorEventType.CREDENTIAL_APPLIED, {"credential": "lis-abc"}),
                   (VendorEventType.BATTERY, {"battery_percent": 9}))
    async with agents.webhooks.apply_vendor_webhooks.test_context() as agent:
        await agent.put(key=KEY, value=hook)
        await agent.put(key=KEY, value=hook)
        await agent.put(key=KEY, value=webhook("m2", (VendorEventType.LOCK_OFFLINE, {})))
        emitted = await drain(events, 3)
    assert [e["type"] for e in emitted] == ["credential.confirmed", "lock.status_changed", "lock.status_changed"]
    assert emitted[1]["battery_low"] is True
    assert emitted[2]["online"] is False
    assert condition().seen_webhooks == ("m1", "m2")


async def test_an_unknown_report_is_recorded_in_the_condition_and_the_agent_goes_on(
    channels: tuple[object, object],
) -> None:
    events, _ = channels
    async with agents.webhooks.apply_vendor_webhooks.test_context() as agent:
        await agent.put(key=KEY, value=webhook("m1", (VendorEventType.UNKNOWN, {})))
        await agent.put(key=KEY, value=webhook("m2", (VendorEventType.LOCK_OFFLINE, {})))
        (emitted,) = await drain(events, 1)
    assert emitted["type"] == "lock.status_changed"
    assert condition().unrecognised == {"salto.unknown": 1}


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        (KEY, b"{not json", "malformed vendor webhook"),
        (KEY, b'{"webhook_id": "m1"}', "malformed vendor webhook"),
        ("t1/eu-west/door-999", webhook("m1", (VendorEventType.LOCK_OFFLINE, {})), "vendor webhook keyed"),
    ],
    ids=["not-json", "incomplete", "wrong-key"],
)
async def test_unprocessable_input_becomes_a_dead_letter_with_its_reason(
    channels: tuple[object, object], key: str, value: bytes, reason: str
) -> None:
    _, dead = channels
    async with agents.webhooks.apply_vendor_webhooks.test_context() as agent:
        await agent.put(key=key, value=value)
        (letter,) = await drain(dead, 1)
    assert str(letter["reason"]).startswith(reason)
    assert letter["key"] == key
    assert KEY not in lock_status.data
