"""Any single byte of any lock_audit row, changed by a superuser who disabled the append-only trigger, is found by
verification, which names the leaf: inside an anchored checkpoint and after the last one alike.

``superuser_edit`` is the tampering helper the checkpoint tests use too.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from adapters.postgres.audit_store import AuditStore
from adapters.postgres.pool import create_pool
from app.audit.anchors import AnchorFile, publish_checkpoint
from app.audit.signing_keys import SigningKeyStore
from app.audit.verify import Verdict, verify_tenant
from app.devstack.stack import Stack
from app.topic_io import topic_sender
from tests.unit.test_audit_leaves import leaves_of

pytestmark = [pytest.mark.postgres, pytest.mark.kafka]

LEAVES, ANCHORED = 12, 8
SWEPT_ROWS = (0, 6, 11)  # the first leaf, one inside the anchored checkpoint, one no checkpoint covers yet


async def superuser_edit(admin: asyncpg.Connection, table: str, statement: str, *args: Any) -> Any:
    """Run one change with the append-only trigger disabled, as only a superuser can; returns its RETURNING value."""
    async with admin.transaction():
        await admin.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
        value = await admin.fetchval(statement, *args)
        await admin.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_append_only")
    return value


@dataclass
class AnchoredTree:
    tenant: str
    store: AuditStore
    keys: SigningKeyStore
    anchors: AnchorFile
    data_dir: Path
    prefix: str

    async def verify(self) -> Verdict:
        return await verify_tenant(self.store, self.tenant, self.anchors.read(), self.keys.verifiers())


@pytest.fixture
async def tree(stack: Stack, tmp_path: Path) -> AsyncIterator[AnchoredTree]:
    """A tenant's tree of 12 leaves, the first 8 anchored by a signed checkpoint on the topic and in the file."""
    tenant, prefix = f"tamper-{uuid.uuid4().hex[:8]}", f"t{uuid.uuid4().hex[:8]}."
    await stack.ensure_topics(prefix, partitions=1)
    pool = await create_pool(stack.database_url, max_size=2)
    anchored = AnchoredTree(tenant, AuditStore(pool), SigningKeyStore.open(tmp_path / "audit" / "signing"),
                            AnchorFile.under(tmp_path), tmp_path, prefix)
    leaves = leaves_of(tenant, LEAVES)
    await anchored.store.append(tenant, leaves[:ANCHORED])
    async with topic_sender(stack.kafka_bootstrap, f"{prefix}lock.audit-anchors") as send:
        assert await publish_checkpoint(anchored.store, anchored.keys, anchored.anchors, send, tenant)
    await anchored.store.append(tenant, leaves[ANCHORED:])
    yield anchored
    await pool.close()


def byte_edits(row: asyncpg.Record) -> list[tuple[str, str, list[Any]]]:
    """Every single-byte change of every column of a row: (column, SET expression, its arguments)."""
    edits: list[tuple[str, str, list[Any]]] = [
        ("leaf", "leaf = set_byte(leaf, $3, get_byte(leaf, $3) # 1)", [pos]) for pos in range(len(row["leaf"]))]
    for column in ("record_id", "tenant_id"):
        text: str = row[column]
        edits += [(column, f"{column} = $3", [text[:pos] + chr(ord(text[pos]) ^ 1) + text[pos + 1 :]])
                  for pos in range(len(text))]
    edits += [("leaf_index", "leaf_index = $3", [row["leaf_index"] ^ (1 << 8 * k)]) for k in range(8)]
    return edits


async def test_every_single_byte_change_of_a_row_is_pinpointed_at_its_leaf(stack: Stack, tree: AnchoredTree) -> None:
    assert (await tree.verify()).ok
    admin = await asyncpg.connect(stack.admin_database_url)
    refused = detected = 0
    try:
        for index in SWEPT_ROWS:
            row = await admin.fetchrow("SELECT * FROM lock_audit WHERE tenant_id = $1 AND leaf_index = $2",
                                       tree.tenant, index)
            for column, change, args in byte_edits(row):
                try:
                    ctid = await superuser_edit(admin, "lock_audit", f"UPDATE lock_audit SET {change} WHERE "
                                                "tenant_id = $1 AND leaf_index = $2 RETURNING ctid",
                                                tree.tenant, index, *args)
                except asyncpg.UniqueViolationError:
                    refused += 1  # the change would duplicate a leaf index: the database refuses it outright
                    continue
                verdict = await tree.verify()
                await superuser_edit(admin, "lock_audit", "UPDATE lock_audit SET tenant_id = $2, leaf_index = $3, "
                                     "record_id = $4, leaf = $5 WHERE ctid = $1", ctid, *row.values())
                first = verdict.first_tampered
                assert first is not None, f"{column} {args} of leaf {index} went unnoticed"
                assert first.leaf_index == index, (column, args, verdict.findings)
                if column in ("leaf", "record_id"):
                    assert first.record_id in (row["record_id"], *args)
                detected += 1
    finally:
        await admin.close()
    assert (await tree.verify()).ok
    print(f"{detected} single-byte changes detected, {refused} refused by the primary key")
    assert detected > 3 * 300


def lis_audit_verify(stack: Stack, tree: AnchoredTree) -> subprocess.CompletedProcess[str]:
    env = stack.env(LIS_DATA_DIR=str(tree.data_dir), LIS_TOPIC_PREFIX=tree.prefix)
    return subprocess.run([sys.executable, "-m", "app", "audit", "verify", "--tenant", tree.tenant], env=env,
                          capture_output=True, text=True, timeout=60)


async def test_lis_audit_verify_names_the_tampered_leaf_and_exits_non_zero(stack: Stack, tree: AnchoredTree) -> None:
    clean = lis_audit_verify(stack, tree)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert f"{tree.tenant}: {LEAVES} leaves, 1 anchored checkpoints hold" in clean.stdout
    admin = await asyncpg.connect(stack.admin_database_url)
    try:
        record_id = await admin.fetchval("SELECT record_id FROM lock_audit WHERE tenant_id = $1 AND leaf_index = 5",
                                         tree.tenant)
        await superuser_edit(admin, "lock_audit", "UPDATE lock_audit SET leaf = set_byte(leaf, 40, get_byte(leaf, 40) "
                             "# 1) WHERE tenant_id = $1 AND leaf_index = 5", tree.tenant)
    finally:
        await admin.close()
    tampered = lis_audit_verify(stack, tree)
    assert tampered.returncode == 1, tampered.stdout + tampered.stderr
    assert f"first tampered leaf 5 (record {record_id})" in tampered.stdout
    assert "anchored checkpoint of size 8 does not match" in tampered.stdout
