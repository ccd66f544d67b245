"""The guest still gets in when the lock's gateway is down (docs/FAILURE_MODES.md, "gateway offline"): real Kafka,
PostgreSQL and worker, the TTLock and Salto sandboxes. The checks are the vendor's: the sandbox keypad, its listing,
its journal through the history checker."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.domain.ops_access import OpsRole
from app.domain.reservation import ReservationEvent
from tests.pipeline import Pipeline, distinct, fast_retries

FALLBACK = {"after_minutes": 15, "arrival_within_minutes": 60}
WAITING = {**fast_retries(), "LIS_RETRY_MAX_ATTEMPTS": "6"}
pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]


async def confirmed_behind_an_offline_gateway(pipeline: Pipeline, arrives_in: timedelta, stays: timedelta
                                             ) -> list[ReservationEvent]:
    """door-1's gateway switched off, then R1 confirmed for room 101 (door-1); its confirmation and checkout."""
    await pipeline.set_gateway("door-1", online=False)
    now = datetime.now(UTC).replace(second=0, microsecond=0)  # PMS times are whole minutes
    events = stay(pipeline, 1, now + arrives_in, now + arrives_in + stays)
    await pipeline.publish(events[:1])
    return events


def stay(pipeline: Pipeline, room: int, arrival: datetime, departure: datetime) -> list[ReservationEvent]:
    """The confirmation and the checkout of reservation R<room> (room 100+n, lock door-n)."""
    fields: dict[str, Any] = {"reservation": f"R{room}", "rooms": [str(100 + room)], "arrival": arrival,
                              "departure": departure}
    return [pipeline.room_event(event_id=f"c{room}", type="reservation.confirmed", sequence=1,
                                occurred_at=datetime.now(UTC), **fields),
            pipeline.room_event(event_id=f"o{room}", type="reservation.checked_out", sequence=2,
                                occurred_at=datetime.now(UTC), reservation=f"R{room}")]


async def lock_view(pipeline: Pipeline, lock_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=30) as http:
        answer = await http.get(f"http://127.0.0.1:{pipeline.web_port}/ops/locks",
                                params={"key": f"{pipeline.tenant}/eu-west/{lock_id}"},
                                headers=pipeline.stack.ops_headers())
        answer.raise_for_status()
        return answer.json()  # type: ignore[no-any-return]


async def until_credential(pipeline: Pipeline, lock_id: str, stay_key: str, check: Any, timeout_s: float = 60
                           ) -> dict[str, Any]:
    """The stay's credential record on the lock once ``check(record)`` holds (polling the ops API)."""
    deadline = time.monotonic() + timeout_s
    record: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            record = (await lock_view(pipeline, lock_id))["credentials"].get(stay_key, {})
        except httpx.HTTPError:  # the worker's web server is not up yet, or the lock has no saga yet (404)
            record = {}
        if record and check(record):
            return record
        await asyncio.sleep(0.5)
    raise AssertionError(f"{lock_id} {stay_key}: {record}")


@pytest.mark.pipeline(rooms=2, offline_fallback=FALLBACK, worker_env=WAITING)
async def test_an_arrival_behind_an_offline_gateway_gets_a_code_that_opens_only_during_the_stay_and_is_revoked(
    pipeline: Pipeline,
) -> None:
    confirm, checkout = await confirmed_behind_an_offline_gateway(pipeline, timedelta(minutes=20),
                                                                  timedelta(hours=2, minutes=50))
    events = await pipeline.read("lock.events", until=lambda rs: "key.issued" in {r["type"] for r in rs})
    (issued,) = distinct(events, "key.issued").values()
    start, end = (datetime.fromisoformat(issued["validity"][edge]) for edge in ("starts_at", "ends_at"))
    assert issued["offline"] is True
    assert (start.minute, end.minute, start <= confirm.arrival, end >= confirm.departure) == (0, 0, True, True)
    assert end - confirm.departure < timedelta(hours=1), "widened to the hour, never more"  # type: ignore[operator]
    assert issued["sealed_code"], "the code travels sealed on the event"
    assert "sealed_code" not in (await lock_view(pipeline, "door-1"))["credentials"][confirm.stay_id]

    async with httpx.AsyncClient(timeout=30) as http:
        desk = pipeline.stack.ops_headers(OpsRole.TENANT_OPERATOR, pipeline.tenant)
        answer = await http.get(f"http://127.0.0.1:{pipeline.web_port}/ops/credential-code",
                                params={"key": f"{pipeline.tenant}/eu-west/door-1", "stay": confirm.stay_id},
                                headers=desk)
        refused = await http.get(f"http://127.0.0.1:{pipeline.web_port}/ops/credential-code",
                                 params={"key": f"{pipeline.tenant}/eu-west/door-1", "stay": confirm.stay_id},
                                 headers=pipeline.stack.ops_headers(OpsRole.READ_ONLY, pipeline.tenant))
    assert answer.status_code == 200, answer.text
    assert (refused.status_code, refused.json()["reason"]) == (403, "role_not_allowed")
    code = answer.json()["code"]
    during = confirm.arrival + timedelta(minutes=30)  # type: ignore[operator]
    assert await pipeline.keypad("door-1", code, during), "the guest gets in while the gateway is down"
    assert not await pipeline.keypad("door-1", code, end + timedelta(minutes=1)), "not after its window"
    assert not await pipeline.keypad("door-1", code, start - timedelta(minutes=1)), "nor before it"
    assert not await pipeline.keypad("door-1", "123456789", during), "and no other code"
    async with httpx.AsyncClient(timeout=30) as http:  # the lock's own records, synced: whose code was typed
        seen = await http.get(f"http://127.0.0.1:{pipeline.web_port}/ops/unlocks", params={
            "key": f"{pipeline.tenant}/eu-west/door-1", "from": (start - timedelta(hours=1)).isoformat(),
            "to": (end + timedelta(hours=1)).isoformat()},
            headers=pipeline.stack.ops_headers(OpsRole.READ_ONLY, pipeline.tenant))
    assert seen.status_code == 200, seen.text
    assert code not in seen.text, "the codes never leave the worker"
    assert [(u["opened"], u["stay"], u["offline"]) for u in seen.json()["unlocks"]] == [
        (False, confirm.stay_id, True), (True, confirm.stay_id, True), (False, None, False),
        (False, confirm.stay_id, True)], "before, during, a stranger's code, after"
    report = await pipeline.history([confirm])
    assert report.clean, report.summary()
    async with httpx.AsyncClient(timeout=30) as http:
        metrics = (await http.get(f"http://127.0.0.1:{pipeline.metrics_port}/metrics")).text
    assert f'lis_offline_codes_total{{tenant="{pipeline.tenant}",vendor="ttlock"}} 1.0' in metrics

    await pipeline.publish([checkout])
    pending = await until_credential(pipeline, "door-1", confirm.stay_id,
                                     lambda r: r["status"] == "revoking" and r["attempts"] >= 1)
    assert "gateway_offline" in pending["last_error"], pending
    assert await pipeline.keypad("door-1", code, during), "a code cannot be deleted while the gateway is down"

    await pipeline.set_gateway("door-1", online=True)
    await until_credential(pipeline, "door-1", confirm.stay_id, lambda r: r["status"] == "revoked")
    assert (await pipeline.sandbox_credentials())["door-1"] == []
    assert not await pipeline.keypad("door-1", code, during), "deleted once the gateway is back"
    report = await pipeline.history([confirm, checkout])
    assert report.clean, report.summary()


@pytest.mark.pipeline(rooms=2, offline_fallback=FALLBACK, worker_env=WAITING)
async def test_a_gateway_back_before_the_fallback_fires_gives_one_normal_credential_and_no_offline_code(
    pipeline: Pipeline,
) -> None:
    confirm, _ = await confirmed_behind_an_offline_gateway(pipeline, timedelta(days=2), timedelta(days=2))
    waiting = await until_credential(pipeline, "door-1", confirm.stay_id, lambda r: r["attempts"] == 0 and
                                     "gateway_offline" in (r.get("last_error") or ""))
    assert waiting["status"] == "issuing"
    await asyncio.sleep(3)  # many retries while the gateway is down: none spends an attempt, none gives up
    assert (await until_credential(pipeline, "door-1", confirm.stay_id, lambda r: True))["status"] == "issuing"
    await pipeline.set_gateway("door-1", online=True)
    record = await until_credential(pipeline, "door-1", confirm.stay_id, lambda r: r["status"] == "issued")
    assert record["offline"] is False
    journal = await pipeline.journal("ttlock")
    assert [entry["op"] for entry in journal if entry["lock"] == pipeline.directory.locks[0].vendor_lock_id] == [  # type: ignore[union-attr]
        "issue"]
    assert not any(entry.get("offline") for entry in journal)
    report = await pipeline.history([confirm])
    assert report.clean, report.summary()


@pytest.mark.pipeline(rooms=2, salto_rooms=1, offline_fallback=FALLBACK, worker_env=WAITING)
async def test_a_vendor_without_offline_codes_keeps_retrying_with_the_reason_and_invents_none(
    pipeline: Pipeline,
) -> None:
    # door-1 is the Salto door here
    confirm, _ = await confirmed_behind_an_offline_gateway(pipeline, timedelta(minutes=10), timedelta(days=1))
    events = await pipeline.read("lock.events", until=lambda rs: "key.issue_delayed" in {r["type"] for r in rs})
    (delayed,) = distinct(events, "key.issue_delayed").values()
    assert "no offline passcodes" in delayed["detail"], delayed
    assert "key.issued" not in {r["type"] for r in events}
    record = await until_credential(pipeline, "door-1", confirm.stay_id, lambda r: r["status"] == "issuing")
    assert "no offline passcodes" in record["last_error"]
    assert (await pipeline.sandbox_credentials())["door-1"] == [], "no code is invented"
    await pipeline.set_gateway("door-1", online=True)
    await until_credential(pipeline, "door-1", confirm.stay_id, lambda r: r["status"] == "issued", timeout_s=120)
    report = await pipeline.history([confirm])
    assert report.clean, report.summary()
