"""Static group membership: a worker killed and started again under its ``LIS_GROUP_INSTANCE_ID`` gets its partitions
back at once, not after the session timeout, and the stays it missed are keyed once each."""

from __future__ import annotations

import time

import pytest

from tests.pipeline import Pipeline, distinct

SESSION_TIMEOUT_S = 45.0  # long, so that waiting it out (dynamic membership) cannot pass for a fast rejoin
ROOMS = 40
pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow,
              pytest.mark.pipeline(rooms=ROOMS, worker_env={"LIS_GROUP_INSTANCE_ID": "worker-a",
                                                            "LIS_SESSION_TIMEOUT_S": str(SESSION_TIMEOUT_S)})]


async def test_a_worker_restarted_under_its_instance_id_resumes_before_the_session_timeout(
        pipeline: Pipeline) -> None:
    first, second = range(1, ROOMS // 2 + 1), range(ROOMS // 2 + 1, ROOMS + 1)
    await pipeline.publish(pipeline.confirmations(first))
    await pipeline.read("lock.events", until=lambda rs: len(distinct(rs, "key.issued")) >= len(first))
    pipeline.kill_worker(pipeline.workers[-1])  # its member stays in the group until the session times out

    restarted = time.monotonic()
    pipeline.start_worker(same_address=True)
    await pipeline.publish(pipeline.confirmations(second))
    await pipeline.read("lock.events", until=lambda rs: len(distinct(rs, "key.issued")) > len(first),
                        timeout_s=2 * SESSION_TIMEOUT_S)
    resumed_after = time.monotonic() - restarted
    print(f"restarted worker issued its first key {resumed_after:.1f} s after its start "
          f"(session timeout {SESSION_TIMEOUT_S:.0f} s)")
    assert resumed_after < SESSION_TIMEOUT_S / 2, "the restarted worker waited for its old member's session to end"

    events = await pipeline.read("lock.events", until=lambda rs: len(distinct(rs, "key.issued")) >= ROOMS)
    assert len(distinct(events, "key.issued")) == ROOMS
    held = await pipeline.sandbox_credentials()
    assert {lock_id: len(creds) for lock_id, creds in held.items() if len(creds) != 1} == {}
