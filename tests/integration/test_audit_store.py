"""The audit store on the real PostgreSQL: per-tenant RFC 6962 trees, appended once per record id, proven from the
stored nodes, and scoped by row-level security."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from adapters.postgres.audit_store import AuditStore
from adapters.postgres.pool import create_pool, tenant_transaction
from app.audit.merkle import leaf_hash, tree_root, verify_consistency, verify_inclusion
from app.audit.verify import verify_tenant
from app.devstack.stack import Stack
from tests.unit.test_audit_leaves import leaves_of

pytestmark = [pytest.mark.postgres]


@pytest.fixture
async def store(stack: Stack) -> AsyncIterator[AuditStore]:
    pool = await create_pool(stack.database_url, max_size=8)
    yield AuditStore(pool)
    await pool.close()


def new_tenant() -> str:
    return f"audit-{uuid.uuid4().hex[:8]}"


async def test_appended_batches_build_the_rfc6962_tree_and_every_proof_verifies(store: AuditStore) -> None:
    tenant = new_tenant()
    leaves = leaves_of(tenant, 17)
    heads = [(await store.append(tenant, batch))[1] for batch in (leaves[:1], leaves[1:6], leaves[6:])]
    hashes = [leaf_hash(leaf.data) for leaf in leaves]
    assert [h.size for h in heads] == [1, 6, 17]
    assert [h.root_hash for h in heads] == [tree_root(hashes[:1]), tree_root(hashes[:6]), tree_root(hashes)]
    for size in range(1, 18):
        head = await store.head(tenant, size)
        assert head.root_hash == tree_root(hashes[:size])
        for leaf in leaves[:size]:
            proof = await store.inclusion_proof(tenant, leaf.record_id, size)
            assert proof is not None
            verify_inclusion(leaf_hash(proof.leaf.data), proof.leaf.index, size, proof.path, head.root_hash)
        if size < 17:
            verify_consistency(size, 17, await store.consistency_proof(tenant, size, 17), head.root_hash,
                               heads[-1].root_hash)


async def test_replayed_records_are_stored_once(store: AuditStore) -> None:
    tenant = new_tenant()
    leaves = leaves_of(tenant, 10)
    appended, first = await store.append(tenant, leaves[:6] + leaves[:3])
    assert (appended, first.size) == (6, 6)
    appended, second = await store.append(tenant, leaves)  # a redelivered batch overlapping the stored one
    assert (appended, second.size) == (4, 10)
    appended, third = await store.append(tenant, leaves)
    assert (appended, third) == (0, second)
    assert second.root_hash == tree_root([leaf_hash(leaf.data) for leaf in leaves])


async def test_concurrent_appends_to_one_tenant_never_fork_its_tree(store: AuditStore) -> None:
    tenant = new_tenant()
    batches = [leaves_of(tenant, 25, start=25 * n) for n in range(8)]
    await asyncio.gather(*(store.append(tenant, batch) for batch in batches))
    verdict = await verify_tenant(store, tenant, [], [])
    assert verdict.ok, verdict.findings
    assert verdict.size == 200
    rows = [row async for row in store.leaves(tenant)]
    assert [row.index for row in rows] == list(range(200))
    assert (await store.head(tenant)).root_hash == tree_root([leaf_hash(row.data) for row in rows])


async def test_proofs_of_a_record_outside_the_tree_or_tenant_are_refused(store: AuditStore) -> None:
    tenant, other = new_tenant(), new_tenant()
    leaves = leaves_of(tenant, 5)
    await store.append(tenant, leaves)
    assert await store.inclusion_proof(tenant, leaves[4].record_id, 4) is None
    assert await store.inclusion_proof(other, leaves[0].record_id) is None
    with pytest.raises(ValueError, match="belongs to"):
        await store.append(other, leaves[:1])


async def test_each_tenant_reads_only_its_own_audit_tree(store: AuditStore, stack: Stack) -> None:
    tenant, other = new_tenant(), new_tenant()
    await store.append(tenant, leaves_of(tenant, 3))
    await store.append(other, leaves_of(other, 2))
    pool = await create_pool(stack.database_url, max_size=1)
    try:
        async with tenant_transaction(pool, other) as conn:
            for table in ("lock_audit", "lock_audit_nodes"):
                assert await conn.fetchval(f"SELECT count(*) FROM {table} WHERE tenant_id = $1", tenant) == 0
        assert await store.stored_ids(other, [leaf.record_id for leaf in leaves_of(tenant, 3)]) == set()
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT count(*) FROM lock_audit") == 0  # no tenant set, no rows
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
            async with tenant_transaction(pool, other) as conn:
                await conn.execute("INSERT INTO lock_audit (tenant_id, leaf_index, record_id, leaf) "
                                   "VALUES ($1, 99, 'forged', 'x')", tenant)
    finally:
        await pool.close()
    assert {tenant, other} <= set(await store.tenants())  # tenant ids only, for the checkpointer
