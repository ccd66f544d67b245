"""Anti-entropy end to end: credentials planted, removed and changed behind the service's back (through the vendors'
own APIs) are reported exactly by ``lis reconcile --dry-run`` and repaired without it — judged on the sandboxes'
journals by the history checker."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from adapters.postgres.pool import create_pool
from adapters.registry import VendorPorts
from app.domain.credential import CredentialKind, IssueRequest, LockRef, Validity
from tests.pipeline import Pipeline, distinct

ROOMS = 12  # doors 1-4 on Salto, 5-12 on TTLock
PLANTED = "lis-feedfacecafebeef"
pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow,
              pytest.mark.pipeline(rooms=ROOMS, salto_rooms=4)]


async def test_reconcile_reports_exactly_what_was_changed_behind_its_back_and_repairs_it(pipeline: Pipeline) -> None:
    events = pipeline.confirmations(range(1, ROOMS + 1))
    await pipeline.publish(events)
    await pipeline.read("lock.events", until=lambda rs: len(distinct(rs, "key.issued")) >= ROOMS)
    assert (await pipeline.settled_history(events)).clean

    locks = {lock.lock_id: pipeline.directory.ref(lock) for lock in pipeline.directory.locks}  # type: ignore[union-attr]
    pool = await create_pool(pipeline.stack.database_url, max_size=1)
    vendors = VendorPorts(pool, pipeline.stack.keys)
    try:
        for lock_id in ("door-1", "door-5"):  # planted under our prefix
            await _plant(vendors, locks[lock_id])
        for lock_id in ("door-2", "door-6"):  # our key removed on the vendor side
            port = await vendors.port(pipeline.tenant, "p1", locks[lock_id].vendor)
            (ours,) = await port.list_credentials(locks[lock_id])
            await port.revoke(locks[lock_id], ours.vendor_ref)
        port = await vendors.port(pipeline.tenant, "p1", locks["door-7"].vendor)  # our key's window moved
        (ours,) = await port.list_credentials(locks["door-7"])
        assert ours.validity is not None
        await port.update_validity(locks["door-7"], ours.vendor_ref, Validity(
            starts_at=ours.validity.starts_at, ends_at=ours.validity.ends_at + timedelta(days=30)))
    finally:
        await vendors.aclose()
        await pool.close()
    behind = await pipeline.history(events)
    assert {k: v for k, v in behind.counts.items() if v} == {"orphans": 2, "missing": 2, "wrong_window": 1}

    dry = pipeline.lis("reconcile", "--tenant", pipeline.tenant, "--property", "p1", "--dry-run", exit_code=8)
    assert f"{ROOMS}/{ROOMS} locks answered; stray 2, duplicates 0, missing 2, drifted 1, landed 0" in dry, dry
    verdicts = await _verdicts(pipeline, runs=1)
    found = {lock_id: {k: v for k, v in report.items() if k in {"stray", "missing", "drifted"} and v}
             for lock_id, report in verdicts[-1].items()}
    assert {lock_id: problems for lock_id, problems in found.items() if problems} == {
        "door-1": {"stray": [PLANTED]}, "door-5": {"stray": [PLANTED]},
        "door-2": {"missing": [events[1].stay_id]}, "door-6": {"missing": [events[5].stay_id]},
        "door-7": {"drifted": [events[6].stay_id]}}
    assert (await pipeline.history(events)).counts == behind.counts, "a dry run changed a lock"

    repaired = pipeline.lis("reconcile", "--tenant", pipeline.tenant, "--property", "p1")
    assert "stray 2, duplicates 0, missing 2, drifted 1, landed 0" in repaired, repaired
    report = await pipeline.settled_history(events)
    assert report.clean, report.summary()
    again = pipeline.lis("reconcile", "--tenant", pipeline.tenant, "--property", "p1", "--dry-run")
    assert "stray 0, duplicates 0, missing 0, drifted 0, landed 0" in again, again


async def _plant(vendors: VendorPorts, lock: LockRef) -> None:
    port = await vendors.port(lock.tenant, lock.property, lock.vendor)
    (ours,) = await port.list_credentials(lock)
    assert ours.validity is not None
    await port.issue(IssueRequest(lock=lock, kind=CredentialKind.PASSCODE, validity=ours.validity, label=PLANTED,
                                  secret="864209"))


async def _verdicts(pipeline: Pipeline, runs: int) -> list[dict[str, dict[str, object]]]:
    """Each reconcile run's ``lock.reconciled`` events by lock, in the order the runs began."""
    events = await pipeline.read("lock.events", until=lambda rs: len(
        {r["run_id"] for r in rs if r.get("type") == "lock.reconciled"}) >= runs, timeout_s=30)
    by_run: dict[str, dict[str, dict[str, object]]] = {}
    for event in (e for e in events if e.get("type") == "lock.reconciled"):
        by_run.setdefault(event["run_id"], {})[event["lock_id"]] = event
    return [json.loads(json.dumps(run)) for run in by_run.values()]
