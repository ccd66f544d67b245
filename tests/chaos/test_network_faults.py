"""Faults on the network path from the worker to the vendor (a TCP fault proxy in between): connections reset,
latency, a black hole that ends in client timeouts, and answers lost after the vendor acted. Every guest still gets
exactly one key."""

from __future__ import annotations

import asyncio

import pytest

from app.devstack.fault_proxy import Fault, FaultProxy
from app.devstack.stack import Stack
from tests.pipeline import Pipeline, distinct, fast_retries

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]

ROOMS = 20
FAST_RETRIES = fast_retries(LIS_RETRY_BASE_S="0.5", LIS_RETRY_CAP_S="2", LIS_RETRY_MAX_ATTEMPTS="40",
                            LIS_RETRY_SCAN_S="0.3", LIS_BREAKER_OPEN_S="2")


async def every_guest_holds_exactly_one_key(pipeline: Pipeline) -> None:
    events = await pipeline.read("lock.events", until=lambda rs: len(distinct(rs, "key.issued")) >= ROOMS,
                                 timeout_s=240)
    assert len(distinct(events, "key.issued")) == ROOMS
    held = await pipeline.sandbox_credentials()
    assert {lock: len(creds) for lock, creds in held.items() if len(creds) != 1} == {}


@pytest.mark.timeout(600)
async def test_resets_latency_and_timeouts_on_the_vendor_path_leave_exactly_one_key_per_guest(stack: Stack) -> None:
    proxy = FaultProxy()
    pipeline = await Pipeline(stack, rooms=ROOMS, worker_env=FAST_RETRIES, vendor_proxy=proxy).start()
    try:
        proxy.set(Fault.RESET)
        await pipeline.publish(pipeline.confirmations(range(1, ROOMS + 1)))
        await asyncio.sleep(6)
        assert distinct(await pipeline.read("lock.events", until=lambda rs: False, timeout_s=1), "key.issued") == {}
        proxy.set(Fault.BLACKHOLE)  # the TTLock client times out after 5 s: the call may or may not have happened
        await asyncio.sleep(7)
        proxy.set(Fault.LATENCY, latency_s=0.2)
        await asyncio.sleep(4)
        proxy.set(Fault.NONE)
        await every_guest_holds_exactly_one_key(pipeline)
    finally:
        pipeline.stop()
        await proxy.close()


@pytest.mark.timeout(600)
async def test_answers_lost_after_the_vendor_acted_leave_exactly_one_key_per_guest(stack: Stack) -> None:
    """The ambiguous outcomes: every request reaches TTLock and is applied, then its answer is dropped (the client
    times out) or the connection is cut as the answer comes back. Retries must look on the lock by label."""
    proxy = FaultProxy()
    pipeline = await Pipeline(stack, rooms=ROOMS, worker_env=FAST_RETRIES, vendor_proxy=proxy).start()
    try:
        proxy.set(Fault.RESET_ON_ANSWER, rate=0.5)  # half the answers: the next attempt's answer comes through
        await pipeline.publish(pipeline.confirmations(range(1, ROOMS + 1)))
        await asyncio.sleep(6)
        proxy.set(Fault.ANSWER_LOST, rate=0.5)  # applied, and the TTLock client waits 5 s for an answer
        await asyncio.sleep(7)
        proxy.set(Fault.NONE)
        await every_guest_holds_exactly_one_key(pipeline)
    finally:
        pipeline.stop()
        await proxy.close()
