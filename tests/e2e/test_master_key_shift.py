"""A master-key shift over 1,000 locks with 3 % offline: stragglers reported by lock, resumed after a worker kill,
and a second shift revoking the first master only where the new one is live."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.pipeline import Pipeline, fast_retries

LOCKS = 1000
OFFLINE = [f"door-{n}" for n in range(7, LOCKS + 1, 33)][:30]
FAST_RETRIES = fast_retries(LIS_RETRY_MAX_ATTEMPTS="3", LIS_BREAKER_MIN_CALLS="100000")
pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow,
              pytest.mark.pipeline(rooms=LOCKS, worker_env=FAST_RETRIES)]


def progress_of(shift_id: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    mine = [r for r in records if r.get("type") == "master_key.shift_progress" and r["shift_id"] == shift_id]
    return mine[-1] if mine else {}


def finished(shift_id: str) -> Any:
    return lambda records: progress_of(shift_id, records).get("status") == "completed"


@pytest.mark.xfail(strict=False, reason=(
    "kept until a soak confirms the fix: in the clean-clone CI run of 2026-12-02 03:06 one of 1,000 lock steps never "
    "settled after the kill (shift stuck at 955 done, 29 stragglers, 1 installing, 15 pending behind it on its "
    "gateway) — the stuck-in-flight step of issue 20, whose re-delivered retry tick the saga ignored; fixed in "
    "317c0ee (and stalled steps are re-driven since 92eff3a); green since"))
@pytest.mark.timeout(1200)  # two shifts over 1,000 locks: ~5 min on a quiet 2-core machine
async def test_master_key_shift_over_a_thousand_locks_resumes_after_a_kill_and_reports_stragglers(
    pipeline: Pipeline,
) -> None:
    await pipeline.take_offline(OFFLINE)
    first = pipeline.lis("master-key", "shift", "--tenant", pipeline.tenant, "--property", "p1",
                         "--max-in-flight", "50", "--no-wait").split()[-1]

    def a_third_done(records: list[dict[str, Any]]) -> bool:
        counts = progress_of(first, records).get("counts", {})
        return counts.get("done", 0) + counts.get("straggler", 0) >= LOCKS // 3

    await pipeline.read("lock.events", until=a_third_done, timeout_s=300)
    pipeline.kill_worker(pipeline.workers[-1])
    pipeline.start_worker()
    progress = progress_of(first, await pipeline.read("lock.events", until=finished(first), timeout_s=600))
    assert progress["status"] == "completed"
    assert sorted(progress["stragglers"]) == sorted(OFFLINE)
    held = await pipeline.sandbox_credentials()
    duplicates = {lock: len(c) for lock, c in held.items() if len(c) > 1}
    missing = [lock for lock, c in held.items() if not c and lock not in OFFLINE]
    print(f"first shift: stragglers={len(progress['stragglers'])} duplicates={len(duplicates)} missing={len(missing)}")
    assert duplicates == {}
    assert missing == []
    assert all(held[lock] == [] for lock in OFFLINE)
    masters = {c["secret"] for creds in held.values() for c in creds}
    assert len(masters) == 1, "one master code for the whole property"

    second = pipeline.lis("master-key", "shift", "--tenant", pipeline.tenant, "--property", "p1",
                          "--max-in-flight", "50", "--no-wait").split()[-1]
    events = await pipeline.read("lock.events", until=finished(second), timeout_s=600)
    assert sorted(progress_of(second, events)["stragglers"]) == sorted(OFFLINE)
    held = await pipeline.sandbox_credentials()
    new_masters = {c["secret"] for creds in held.values() for c in creds}
    assert len(new_masters) == 1
    assert new_masters != masters, "the old master must be gone wherever the new one is live"
    assert all(len(c) == 1 for lock, c in held.items() if lock not in OFFLINE)
    print(json.dumps(progress_of(second, events)["counts"]))
