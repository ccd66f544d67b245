"""The issue and revoke sagas end to end: real Kafka, real PostgreSQL, the TTLock sandbox, a real worker process."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from app.devstack.stack import Stack
from app.domain.ops_access import OpsRole
from tests.builders import stay_to_come
from tests.pipeline import Pipeline, distinct

ROOMS = 100
BERLIN = ZoneInfo("Europe/Berlin")
pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow, pytest.mark.pipeline(rooms=ROOMS)]


def confirmations(pipeline: Pipeline) -> list:  # type: ignore[type-arg]
    start = stay_to_come(tz=BERLIN)
    return [pipeline.room_event(event_id=f"c{n}", type="reservation.confirmed", reservation=f"R{n}", sequence=1,
                                occurred_at=datetime.now(UTC), rooms=[str(100 + n)], arrival=start,
                                departure=start + timedelta(days=1 + n % 5, hours=-4), guest_id=f"guest-{n}")
            for n in range(1, ROOMS + 1)]


MALFORMED = [
    ("t/p1/bad1", b"{not json"),
    ("t/p1/bad2", b'{"event_id": "x"}'),
    ("t/p1/bad3", b'{"event_id": "y", "type": "reservation.exploded"}'),
    ("t/p1/bad4", b""),
    ("t/p1/bad5", b'{"event_id": "z", "type": "reservation.confirmed", "tenant": "t", "region": "eu-west", '
                  b'"property": "p1", "reservation": "R", "sequence": 1, "occurred_at": "2026-12-01T10:00:00Z"}'),
]


async def test_hundred_confirmations_issue_exactly_hundred_keys_then_checkout_revokes_them_all(
    pipeline: Pipeline,
) -> None:
    events = confirmations(pipeline)
    mixed: list = events[:50] + MALFORMED + events[50:]  # type: ignore[type-arg]
    await pipeline.publish(mixed)

    lock_events = await pipeline.read("lock.events", until=lambda rs: len(distinct(rs, "key.issued")) >= ROOMS)
    issued = distinct(lock_events, "key.issued")
    assert len(issued) == ROOMS
    assert not distinct(lock_events, "key.issue_failed")
    assert {e["stay"] for e in issued.values()} == {e.stay_id for e in events}
    assert all(e["guest_ref"].startswith("g_") and "guest-" not in str(e) for e in issued.values())

    held = await pipeline.sandbox_credentials()
    by_room = {e.rooms[0]: e for e in events}
    for lock in pipeline.directory.locks:  # type: ignore[union-attr]
        (credential,) = held[lock.lock_id]
        reservation = by_room[lock.room]  # type: ignore[index]
        assert credential["startDate"] == int(reservation.arrival.timestamp() * 1000)  # type: ignore[union-attr]
        assert credential["endDate"] == int(reservation.departure.timestamp() * 1000)  # type: ignore[union-attr]
        assert credential["onLock"] is True

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{pipeline.web_port}",
                                 headers=pipeline.stack.ops_headers()) as worker:
        lock = (await worker.get("/ops/locks", params={"key": f"{pipeline.tenant}/eu-west/door-1"})).json()
        (record,) = lock["credentials"].values()
        assert record["status"] == "issued"
        assert lock["breaker"] == "closed"
        metrics = (await worker.get(f"http://127.0.0.1:{pipeline.metrics_port}/metrics")).text
        assert "lis_vendor_calls_total" in metrics
        issued_metric = (f'lis_lock_events_total{{tenant="{pipeline.tenant}",type="key.issued",vendor="ttlock"}} '
                         f"{float(ROOMS)}")
        assert issued_metric in metrics, [line for line in metrics.splitlines() if "lis_lock_events" in line]
        per_property = f'lis_property_lock_events_total{{property="p1",tenant="{pipeline.tenant}",type="key.issued"}}'
        assert f"{per_property} {float(ROOMS)}" in metrics, "the per-property dashboard's counter moves with each key"
        latencies = (f'lis_pms_to_lock_event_seconds_count{{tenant="{pipeline.tenant}",type="key.issued"}} '
                     f"{float(ROOMS)}")
        assert latencies in metrics, "each key's latency from its PMS event is observed once"
        assert (await worker.get("/ops/breakers")).json() == {f"{pipeline.tenant}/ttlock": "closed"}
        desk = pipeline.stack.ops_headers(OpsRole.TENANT_OPERATOR, pipeline.tenant)
        pin = (await worker.get("/ops/credential-code", headers=desk, params={
            "key": f"{pipeline.tenant}/eu-west/door-1", "stay": by_room["101"].stay_id})).json()
    during = by_room["101"].arrival + timedelta(hours=1)  # type: ignore[operator]
    assert pin["offline"] is False
    assert await pipeline.keypad("door-1", pin["code"], during), "the PIN the front desk reads opens the guest's door"
    assert not await pipeline.keypad("door-2", pin["code"], during), "and no other door"

    dead = await pipeline.read("lock.dlq", until=lambda rs: len(rs) >= len(MALFORMED), timeout_s=30)
    assert sorted(d["key"] for d in dead) == sorted(k for k, _ in MALFORMED)
    assert all(d["reason"].startswith("malformed reservation event") for d in dead)

    await pipeline.publish(pipeline.room_event(event_id=f"o{n}", type="reservation.checked_out",
                                               reservation=f"R{n}", sequence=2, occurred_at=datetime.now(UTC))
                           for n in range(1, ROOMS + 1))
    lock_events = await pipeline.read("lock.events", until=lambda rs: len(distinct(rs, "key.revoked")) >= ROOMS)
    assert len(distinct(lock_events, "key.revoked")) == ROOMS
    assert not distinct(lock_events, "key.revoke_failed")
    held = await pipeline.sandbox_credentials()
    assert all(creds == [] for creds in held.values()), "a checked-out guest's key still opens a door"


async def test_a_property_mixing_ttlock_and_salto_locks_issues_and_revokes_on_both(stack: Stack) -> None:
    mixed = await Pipeline(stack, rooms=20, salto_rooms=10).start()
    try:
        start = stay_to_come(tz=BERLIN)
        await mixed.publish(mixed.room_event(
            event_id=f"c{n}", type="reservation.confirmed", reservation=f"R{n}", sequence=1,
            occurred_at=datetime.now(UTC), rooms=[str(100 + n)], arrival=start,
            departure=start + timedelta(days=2)) for n in range(1, 21))
        events = await mixed.read("lock.events", until=lambda rs: len(distinct(rs, "key.issued")) >= 20)
        issued = distinct(events, "key.issued").values()
        assert sorted(e["vendor"] for e in issued) == ["salto"] * 10 + ["ttlock"] * 10
        assert all(len(creds) == 1 for creds in (await mixed.sandbox_credentials()).values())

        await mixed.publish(mixed.room_event(event_id=f"o{n}", type="reservation.checked_out", reservation=f"R{n}",
                                             sequence=2, occurred_at=datetime.now(UTC)) for n in range(1, 21))
        events = await mixed.read("lock.events", until=lambda rs: len(distinct(rs, "key.revoked")) >= 20)
        assert len(distinct(events, "key.revoked")) == 20
        assert all(creds == [] for creds in (await mixed.sandbox_credentials()).values())
    finally:
        mixed.stop()
