"""The Merkle-anchored audit log in PostgreSQL: leaves in ``lock_audit``, complete subtrees in ``lock_audit_nodes``.

One tree per tenant, each under row-level security. Appends to a tenant's tree are serialised by a transaction-level
advisory lock, so two sinks (a rebalance, a drill replaying next to a worker) never fork a tree; the primary key on
the leaf index would refuse a fork anyway. Roots and proofs read only the O(log² n) stored nodes they need, found by
running the pure :mod:`app.audit.merkle` function once with a recording callback (the nodes a proof needs depend
on the sizes alone) and fetching exactly those in one query.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

import asyncpg

from adapters.postgres.pool import tenant_transaction
from app.audit.leaves import AuditLeaf, StoredLeaf, TreeHead
from app.audit.merkle import (
    GetNode,
    Node,
    consistency_proof_from_store,
    inclusion_proof_from_store,
    leaf_hash,
    nodes_to_store_after_append,
    root_from_store,
)

T = TypeVar("T")
PAGE = 5000  # rows per query when streaming a whole tree: bounded memory per round trip
_PLACEHOLDER = bytes(32)


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """The audit path of one record's leaf in the tree of ``head.size`` leaves."""

    leaf: StoredLeaf
    head: TreeHead
    path: list[bytes]


class AuditStore:
    """Appends, roots and proofs over the per-tenant trees, as the application role."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def append(self, tenant: str, leaves: Sequence[AuditLeaf]) -> tuple[int, TreeHead]:
        """Append the leaves whose record id is not stored yet, in order; the count appended and the new head."""
        async with _transaction(self._pool, tenant) as conn:
            await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"lock_audit/{tenant}")
            stored = set(await _stored_ids(conn, tenant, [leaf.record_id for leaf in leaves]))
            fresh: dict[str, AuditLeaf] = {}
            for leaf in leaves:
                if leaf.tenant != tenant:
                    raise ValueError(f"record {leaf.record_id} belongs to {leaf.tenant}, not to {tenant}")
                if leaf.record_id not in stored:
                    fresh.setdefault(leaf.record_id, leaf)  # the first of a batch's duplicates wins
            size = await _size(conn, tenant)
            known = await _fetch_nodes(conn, tenant, _needed(lambda get: root_from_store(size, get)))
            created: list[Node] = []
            for offset, leaf in enumerate(fresh.values()):
                for node in nodes_to_store_after_append(size + offset, leaf_hash(leaf.data), _getter(known)):
                    known[(node.level, node.index)] = node.hash
                    created.append(node)
            if fresh:
                await conn.execute(
                    "INSERT INTO lock_audit (tenant_id, leaf_index, record_id, leaf) "
                    "SELECT $1, i, r, d FROM unnest($2::bigint[], $3::text[], $4::bytea[]) AS t(i, r, d)",
                    tenant, list(range(size, size + len(fresh))), list(fresh), [f.data for f in fresh.values()])
                await conn.execute(
                    "INSERT INTO lock_audit_nodes (tenant_id, level, node_index, hash) "
                    "SELECT $1, l, i, h FROM unnest($2::smallint[], $3::bigint[], $4::bytea[]) AS t(l, i, h)",
                    tenant, [n.level for n in created], [n.index for n in created], [n.hash for n in created])
            size += len(fresh)
            return len(fresh), TreeHead(size, root_from_store(size, _getter(known)))

    async def head(self, tenant: str, size: int | None = None) -> TreeHead:
        """The current tree head, or the head of the tree's first ``size`` leaves."""
        async with _transaction(self._pool, tenant) as conn:
            size = await _size(conn, tenant) if size is None else size
            return TreeHead(size, await _from_store(conn, tenant, lambda get: root_from_store(size, get)))

    async def inclusion_proof(self, tenant: str, record_id: str, size: int | None = None) -> InclusionProof | None:
        """The proof that ``record_id`` is in the tree of ``size`` leaves (default: all); None if it is not."""
        async with _transaction(self._pool, tenant) as conn:
            row = await conn.fetchrow("SELECT leaf_index, tenant_id, record_id, leaf FROM lock_audit "
                                      "WHERE tenant_id = $1 AND record_id = $2", tenant, record_id)
            size = await _size(conn, tenant) if size is None else size
            if row is None or row["leaf_index"] >= size:
                return None
            leaf = StoredLeaf(row["leaf_index"], row["tenant_id"], row["record_id"], row["leaf"])
            path = await _from_store(conn, tenant, lambda get: inclusion_proof_from_store(leaf.index, size, get))
            root = await _from_store(conn, tenant, lambda get: root_from_store(size, get))
        return InclusionProof(leaf, TreeHead(size, root), path)

    async def consistency_proof(self, tenant: str, size1: int, size2: int) -> list[bytes]:
        """The proof that the tree of ``size2`` leaves extends the tree of its first ``size1``."""
        async with _transaction(self._pool, tenant) as conn:
            return await _from_store(conn, tenant, lambda get: consistency_proof_from_store(size1, size2, get))

    async def stored_ids(self, tenant: str, record_ids: Sequence[str]) -> set[str]:
        """Which of ``record_ids`` are leaves of the tenant's tree."""
        async with _transaction(self._pool, tenant) as conn:
            return set(await _stored_ids(conn, tenant, record_ids))

    async def tenants(self) -> list[str]:
        """Every tenant with an audit tree (ids only: rows stay behind row-level security)."""
        async with self._pool.acquire() as conn:
            return [r[0] for r in await conn.fetch("SELECT lock_audit_tenants()")]

    async def leaves(self, tenant: str) -> AsyncIterator[StoredLeaf]:
        """Every row of the tenant's tree in leaf order, a page per transaction."""
        after = -1
        while True:
            async with _transaction(self._pool, tenant) as conn:
                rows = await conn.fetch("SELECT leaf_index, tenant_id, record_id, leaf FROM lock_audit "
                                        "WHERE tenant_id = $1 AND leaf_index > $2 ORDER BY leaf_index LIMIT $3",
                                        tenant, after, PAGE)
            for row in rows:
                yield StoredLeaf(row["leaf_index"], row["tenant_id"], row["record_id"], row["leaf"])
            if len(rows) < PAGE:
                return
            after = rows[-1]["leaf_index"]

    async def nodes(self, tenant: str, level: int) -> AsyncIterator[tuple[int, bytes]]:
        """The stored nodes of one level, in index order, as ``(index, hash)``."""
        after = -1
        while True:
            async with _transaction(self._pool, tenant) as conn:
                rows = await conn.fetch("SELECT node_index, hash FROM lock_audit_nodes WHERE tenant_id = $1 "
                                        "AND level = $2 AND node_index > $3 ORDER BY node_index LIMIT $4",
                                        tenant, level, after, PAGE)
            for row in rows:
                yield row["node_index"], row["hash"]
            if len(rows) < PAGE:
                return
            after = rows[-1]["node_index"]


@asynccontextmanager
async def _transaction(pool: asyncpg.Pool, tenant: str) -> AsyncIterator[asyncpg.Connection]:
    """A tenant transaction planning each statement for its arguments.

    asyncpg prepares every statement once per connection, and PostgreSQL then reuses a generic plan built from the
    statistics of that moment: a plan made while a tree was small scans the whole table once it holds millions of
    leaves, until autovacuum happens to analyze it. A custom plan costs a fraction of a millisecond.
    """
    async with tenant_transaction(pool, tenant) as conn:
        await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        yield conn


async def _size(conn: asyncpg.Connection, tenant: str) -> int:
    # The primary key index answers max() from its last entry: O(log n) at any size.
    size: int = await conn.fetchval("SELECT coalesce(max(leaf_index) + 1, 0) FROM lock_audit WHERE tenant_id = $1",
                                    tenant)
    return size


async def _stored_ids(conn: asyncpg.Connection, tenant: str, record_ids: Sequence[str]) -> list[str]:
    rows = await conn.fetch("SELECT record_id FROM lock_audit WHERE tenant_id = $1 AND record_id = ANY($2::text[])",
                            tenant, list(record_ids))
    return [r[0] for r in rows]


def _needed(compute: Callable[[GetNode], object]) -> set[tuple[int, int]]:
    """The nodes ``compute`` reads: which ones depends on sizes and indexes only, never on hash values."""
    wanted: set[tuple[int, int]] = set()

    def record(level: int, index: int) -> bytes:
        wanted.add((level, index))
        return _PLACEHOLDER

    compute(record)
    return wanted


async def _fetch_nodes(conn: asyncpg.Connection, tenant: str,
                       wanted: set[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    # LATERAL pins one primary-key probe per wanted node, whatever the planner guesses about the arrays' length.
    rows = await conn.fetch(
        "SELECT w.level, w.node_index, n.hash FROM unnest($2::smallint[], $3::bigint[]) AS w(level, node_index) "
        "CROSS JOIN LATERAL (SELECT hash FROM lock_audit_nodes WHERE tenant_id = $1 AND level = w.level "
        "AND node_index = w.node_index) AS n", tenant, [level for level, _ in wanted], [index for _, index in wanted])
    return {(r["level"], r["node_index"]): r["hash"] for r in rows}


def _getter(known: dict[tuple[int, int], bytes]) -> GetNode:
    def get_node(level: int, index: int) -> bytes:
        try:
            return known[(level, index)]
        except KeyError:
            raise LookupError(f"stored node ({level}, {index}) is missing: the node table is incomplete") from None

    return get_node


async def _from_store(conn: asyncpg.Connection, tenant: str, compute: Callable[[GetNode], T]) -> T:
    """Run a ``*_from_store`` computation on the nodes it needs, fetched in one query."""
    return compute(_getter(await _fetch_nodes(conn, tenant, _needed(compute))))
