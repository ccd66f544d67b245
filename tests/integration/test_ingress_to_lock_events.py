"""Vendor webhooks end to end: signed Salto callbacks through the running ingress, the webhook agent in a real worker,
canonical lock events on ``lock.events`` and the lock's condition in the ``lock_status`` ops view."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from app.devstack.stack import Stack
from tests.benchmarks.ingress.live import LiveIngress, salto_event

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]

LABEL = "lis-0123456789abcdef"


async def lock_events(live: LiveIngress, count: int, timeout_s: float = 90) -> list[dict[str, Any]]:
    consumer = AIOKafkaConsumer(f"{live.prefix}lock.events", bootstrap_servers=live.stack.kafka_bootstrap,
                                group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(events) < count and time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                events += [{"key": r.key.decode(), **json.loads(r.value)} for r in batch]
    finally:
        await consumer.stop()
    return events


async def lock_status(http: httpx.AsyncClient, stack: Stack, web_port: int, key: str, timeout_s: float = 30
                      ) -> dict[str, Any]:
    """The lock's condition from the worker's ops API lock view."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            answer = await http.get(f"http://127.0.0.1:{web_port}/ops/locks", params={"key": key},
                                    headers=stack.ops_headers())
            if answer.status_code == 200:
                condition: dict[str, Any] = answer.json()["condition"]
                return condition
        except httpx.TransportError:
            pass  # the worker's web server is not up yet
        assert time.monotonic() < deadline, "the worker never served the lock's condition"
        await asyncio.sleep(0.5)


async def test_salto_callbacks_become_lock_events_and_the_locks_condition(stack: Stack) -> None:
    live = await LiveIngress(stack, salto_locks=("AP-1",)).start()
    try:
        web_port = live.start_worker()
        async with httpx.AsyncClient(timeout=30) as http:
            for body in (salto_event("AP-1", "accessPoint.offline"),
                         salto_event("AP-1", "battery.low", batteryLevel=9),
                         salto_event("AP-1", "door.opened", extUserId=LABEL),
                         salto_event("AP-1", "door.jammed")):
                assert (await live.send_salto(http, body)).status_code == 202
            events = await lock_events(live, 4)
            assert [(e["type"], e.get("online"), e.get("battery_low"), e.get("credential")) for e in events] == [
                ("lock.status_changed", False, None, None),
                ("lock.status_changed", False, True, None),
                ("credential.confirmed", None, None, LABEL),
                ("lock.unlocked", None, None, None),
            ]
            key = live.lock_key("door-AP-1")
            assert {e["key"] for e in events} == {key}
            condition = await lock_status(http, stack, web_port, key)
    finally:
        live.stop()
    assert (condition["online"], condition["battery_percent"]) == (False, 9)
    assert condition["confirmed_credentials"] == [LABEL]
    assert condition["unrecognised"] == {"salto.door.jammed": 1}, "an unknown report is recorded, not dropped"
