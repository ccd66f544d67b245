"""Webhook receipts in the real PostgreSQL: a webhook id is taken only when its block completes, concurrent
deliveries of one id serialise, receipts are private to their tenant, and the running ingress prunes old ones."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import httpx
import pytest

from adapters.postgres.directory import save_tenant
from adapters.postgres.pool import create_pool
from adapters.postgres.webhook_endpoints import AlreadyReceived, held_receipt, prune_receipts, receipt_count
from app.devstack.stack import Stack
from tests.benchmarks.ingress.live import LiveIngress, salto_event, signed_headers

pytestmark = [pytest.mark.postgres]


@pytest.fixture
async def pool(stack: Stack) -> AsyncIterator[asyncpg.Pool]:
    app_pool = await create_pool(stack.database_url, max_size=4)
    for tenant in ("rcpt-a", "rcpt-b"):
        await save_tenant(app_pool, tenant, "eu-west", tenant)
    yield app_pool
    await app_pool.close()


async def test_a_receipt_is_kept_only_when_its_block_completes(pool: asyncpg.Pool) -> None:
    with pytest.raises(RuntimeError, match="broker down"):
        async with held_receipt(pool, "rcpt-a", "salto", "msg-failed", "door-1"):
            raise RuntimeError("broker down")
    assert await receipt_count(pool, "rcpt-a", "salto", "msg-failed") == 0
    async with held_receipt(pool, "rcpt-a", "salto", "msg-failed", "door-1"):
        pass  # the retry of a failed delivery is not a replay
    with pytest.raises(AlreadyReceived):
        async with held_receipt(pool, "rcpt-a", "salto", "msg-failed", "door-1"):
            pass


async def test_a_concurrent_delivery_of_the_same_id_waits_for_the_first_and_then_sees_its_outcome(
    pool: asyncpg.Pool,
) -> None:
    first_inside, release = asyncio.Event(), asyncio.Event()

    async def first(fail: bool) -> None:
        async with held_receipt(pool, "rcpt-a", "salto", f"msg-race-{fail}", "door-1"):
            first_inside.set()
            await release.wait()
            if fail:
                raise RuntimeError("not produced")

    async def second(fail: bool) -> str:
        await first_inside.wait()
        try:
            async with held_receipt(pool, "rcpt-a", "salto", f"msg-race-{fail}", "door-1"):
                return "accepted"
        except AlreadyReceived:
            return "replayed"

    for fail, outcome in ((False, "replayed"), (True, "accepted")):
        first_inside.clear()
        release.clear()
        racing = asyncio.gather(first(fail), second(fail), return_exceptions=True)
        await first_inside.wait()
        await asyncio.sleep(0.3)  # the second is blocked on the first's uncommitted receipt meanwhile
        release.set()
        _, seen = await racing
        assert seen == outcome


async def test_receipts_are_private_to_their_tenant(pool: asyncpg.Pool) -> None:
    async with held_receipt(pool, "rcpt-a", "salto", "msg-shared-id", "door-1"):
        pass
    assert await receipt_count(pool, "rcpt-b", "salto", "msg-shared-id") == 0
    async with held_receipt(pool, "rcpt-b", "salto", "msg-shared-id", "door-1"):
        pass  # the same id from another tenant is another webhook


async def test_pruning_deletes_only_receipts_past_the_retention(pool: asyncpg.Pool, stack: Stack) -> None:
    for webhook_id in ("msg-old", "msg-new"):
        async with held_receipt(pool, "rcpt-b", "generic", webhook_id, "door-1"):
            pass
    admin = await asyncpg.connect(stack.admin_database_url)
    try:
        await admin.execute("UPDATE webhook_receipts SET received_at = now() - interval '2 days' "
                            "WHERE tenant_id = 'rcpt-b' AND webhook_id = 'msg-old'")
    finally:
        await admin.close()
    assert await prune_receipts(pool, "rcpt-b", timedelta(days=1)) == 1
    assert [await receipt_count(pool, "rcpt-b", "generic", w) for w in ("msg-old", "msg-new")] == [0, 1]


@pytest.mark.kafka
async def test_the_running_ingress_prunes_old_receipts_of_the_tenants_it_serves(stack: Stack,
                                                                                pool: asyncpg.Pool) -> None:
    live = await LiveIngress(stack, env={"LIS_INGRESS_PRUNE_EVERY_S": "0.5",
                                         "LIS_INGRESS_RECEIPT_RETENTION_S": "600"}).start()
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            sent = []
            for _ in range(2):
                body = salto_event("AP-1")
                sent.append(signed_headers(body, live.salto_secret))
                assert (await http.post(live.salto_url(), content=body, headers=sent[-1])).status_code == 202
                if len(sent) == 1:
                    await age_receipts(stack, live.tenant)  # the first is now past the retention
        old, new = (headers["webhook-id"] for headers in sent)
        deadline = time.monotonic() + 15
        while await receipt_count(pool, live.tenant, "salto", old):
            assert time.monotonic() < deadline, "the ingress never pruned the receipt past its retention"
            await asyncio.sleep(0.2)
        assert await receipt_count(pool, live.tenant, "salto", new) == 1
    finally:
        live.stop()


async def age_receipts(stack: Stack, tenant: str) -> None:
    """Backdate every receipt of ``tenant`` by eleven minutes, as the owner (the application role cannot)."""
    admin = await asyncpg.connect(stack.admin_database_url)
    try:
        await admin.execute("UPDATE webhook_receipts SET received_at = now() - interval '11 minutes' "
                            "WHERE tenant_id = $1", tenant)
    finally:
        await admin.close()
