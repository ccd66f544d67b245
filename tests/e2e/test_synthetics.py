"""The synthetic vendor checks end to end: `lis synthetics run` issues, finds and revokes a canary credential on the
directory's test lock in the TTLock sandbox and on no other lock, passes while the vendor answers and fails, with the
step and the vendor's cause, while it does not — judged on the sandbox's journal and holdings."""

from __future__ import annotations

import pytest

from tests.pipeline import Pipeline, distinct

ROOMS = 3
pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.pipeline(rooms=ROOMS, canary=True)]


async def test_a_synthetic_check_issues_and_revokes_a_canary_on_the_test_lock_and_touches_no_guest_lock(
        pipeline: Pipeline) -> None:
    events = pipeline.confirmations(range(1, ROOMS + 1))
    await pipeline.publish(events)
    await pipeline.read("lock.events", until=lambda rs: len(distinct(rs, "key.issued")) >= ROOMS)
    held_before = await pipeline.sandbox_credentials()
    assert held_before["canary-1"] == [], "no stay gets a key to the test lock"
    journal_before = len(await pipeline.journal())

    out = pipeline.lis("synthetics", "run", "--tenant", pipeline.tenant, "--rounds", "2", "--every", "1")

    lines = [line for line in out.splitlines() if "canary-1" in line]
    assert len(lines) == 2, out
    assert all(f"{pipeline.tenant}/p1/canary-1 (ttlock, eu-west): ok in" in line for line in lines), out
    assert await pipeline.sandbox_credentials() == held_before, "guest keys untouched, the canaries gone"
    applied = (await pipeline.journal())[journal_before:]
    assert applied, "the checks reached the vendor"
    canary_lock = next(lock for lock in pipeline.directory.locks if lock.synthetic)  # type: ignore[union-attr]
    assert {entry["lock"] for entry in applied} == {canary_lock.vendor_lock_id}, applied
    assert [entry["op"] for entry in applied] == ["issue", "revoke"] * 2, applied


async def test_a_synthetic_check_fails_with_the_step_and_cause_while_the_vendor_errs(pipeline: Pipeline) -> None:
    await pipeline.inject("http_5xx", rate=1.0)
    try:
        out = pipeline.lis("synthetics", "run", "--tenant", pipeline.tenant, exit_code=1)
    finally:
        await pipeline.inject("clear")
    assert f"{pipeline.tenant}/p1/canary-1 (ttlock, eu-west): FAILED: issue_failed (vendor_unavailable)" in out, out
    assert "ok in" in pipeline.lis("synthetics", "run", "--tenant", pipeline.tenant), "passes once the vendor answers"
