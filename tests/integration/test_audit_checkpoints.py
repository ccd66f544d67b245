"""Signed checkpoints on the real broker and database: anchored on lock.audit-anchors and in the anchor file,
published only when consistent with the previous one, verifiable across key rotations."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from adapters.postgres.audit_store import AuditStore
from adapters.postgres.pool import create_pool
from app.audit.anchors import AnchorFile, CheckpointRefusedError, origin_for, publish_checkpoint
from app.audit.checkpoint import open_checkpoint, verify_note
from app.audit.leaves import AuditLeaf
from app.audit.merkle import leaf_hash, nodes_to_store_after_append
from app.audit.signing_keys import SigningKeyStore
from app.audit.verify import verify_tenant
from app.devstack.stack import Stack
from app.topic_io import read_topic, topic_sender
from tests.integration.test_audit_tamper import superuser_edit
from tests.unit.test_audit_leaves import leaves_of

pytestmark = [pytest.mark.postgres, pytest.mark.kafka]


@dataclass
class Log:
    stack: Stack
    tenant: str
    store: AuditStore
    keys: SigningKeyStore
    anchors: AnchorFile
    topic: str

    async def checkpoint(self) -> str | None:
        async with topic_sender(self.stack.kafka_bootstrap, self.topic) as send:
            return await publish_checkpoint(self.store, self.keys, self.anchors, send, self.tenant)

    async def on_topic(self) -> list[str]:
        return [r.value.decode() for r in await read_topic(self.stack.kafka_bootstrap, self.topic)
                if r.key == self.tenant]


@pytest.fixture
async def log(stack: Stack, tmp_path: Path) -> AsyncIterator[Log]:
    prefix = f"t{uuid.uuid4().hex[:8]}."
    await stack.ensure_topics(prefix)
    pool = await create_pool(stack.database_url, max_size=2)
    yield Log(stack, f"cp-{uuid.uuid4().hex[:8]}", AuditStore(pool), SigningKeyStore.open(tmp_path / "keys"),
              AnchorFile.under(tmp_path), f"{prefix}lock.audit-anchors")
    await pool.close()


async def test_a_checkpoint_is_anchored_on_the_topic_and_in_the_file(log: Log) -> None:
    await log.store.append(log.tenant, leaves_of(log.tenant, 7))
    note = await log.checkpoint()
    assert note is not None
    assert await log.on_topic() == [note]
    assert [(a.tenant, a.note) for a in AnchorFile(log.anchors.path).read()] == [(log.tenant, note)]
    checkpoint = open_checkpoint(note, log.keys.verifiers())
    head = await log.store.head(log.tenant)
    assert (checkpoint.origin, checkpoint.size, checkpoint.root_hash) == (origin_for(log.tenant), 7, head.root_hash)


async def test_an_unchanged_tree_is_not_checkpointed_again(log: Log) -> None:
    await log.store.append(log.tenant, leaves_of(log.tenant, 3))
    assert await log.checkpoint() is not None
    assert await log.checkpoint() is None
    await log.store.append(log.tenant, leaves_of(log.tenant, 3))  # replayed records: still nothing new
    assert await log.checkpoint() is None
    assert len(await log.on_topic()) == 1


async def test_a_tree_that_shrank_since_its_last_checkpoint_is_refused(log: Log) -> None:
    await log.store.append(log.tenant, leaves_of(log.tenant, 6))
    assert await log.checkpoint() is not None
    admin = await asyncpg.connect(log.stack.admin_database_url)
    try:  # a superuser deletes the last two leaves and every hash covering them
        await superuser_edit(admin, "lock_audit", "DELETE FROM lock_audit WHERE tenant_id = $1 AND leaf_index >= 4",
                             log.tenant)
        await superuser_edit(admin, "lock_audit_nodes", "DELETE FROM lock_audit_nodes WHERE tenant_id = $1 "
                             "AND (node_index + 1) << level > 4", log.tenant)
    finally:
        await admin.close()
    with pytest.raises(CheckpointRefusedError, match="tree shrank from size 6 to 4"):
        await log.checkpoint()
    assert len(await log.on_topic()) == 1


async def test_a_tree_rewritten_under_its_anchor_is_refused_even_with_consistent_nodes(log: Log) -> None:
    leaves = leaves_of(log.tenant, 4)
    await log.store.append(log.tenant, leaves)
    assert await log.checkpoint() is not None
    forged = [*leaves[:2], AuditLeaf(log.tenant, leaves[2].record_id, leaves_of(log.tenant, 1, start=9)[0].data),
              leaves[3]]
    nodes: dict[tuple[int, int], bytes] = {}
    for index, leaf in enumerate(forged):
        for node in nodes_to_store_after_append(index, leaf_hash(leaf.data), lambda lvl, i: nodes[(lvl, i)]):
            nodes[(node.level, node.index)] = node.hash
    admin = await asyncpg.connect(log.stack.admin_database_url)
    try:  # a superuser rewrites leaf 2 and every hash above it, so the database alone looks whole
        await superuser_edit(admin, "lock_audit", "UPDATE lock_audit SET leaf = $2 WHERE tenant_id = $1 "
                             "AND leaf_index = 2", log.tenant, forged[2].data)
        for (level, index), digest in nodes.items():
            await superuser_edit(admin, "lock_audit_nodes", "UPDATE lock_audit_nodes SET hash = $4 WHERE tenant_id "
                                 "= $1 AND level = $2 AND node_index = $3", log.tenant, level, index, digest)
    finally:
        await admin.close()
    await log.store.append(log.tenant, leaves_of(log.tenant, 2, start=4))
    assert (await verify_tenant(log.store, log.tenant, log.anchors.read(), log.keys.verifiers())).findings
    with pytest.raises(CheckpointRefusedError, match="not consistent with the anchored checkpoint of 4"):
        await log.checkpoint()
    assert len(await log.on_topic()) == 1


async def test_checkpoints_signed_before_a_key_rotation_stay_verifiable(log: Log) -> None:
    await log.store.append(log.tenant, leaves_of(log.tenant, 5))
    before = await log.checkpoint()
    old_key, new_key = log.keys.current(), log.keys.rotate()
    await log.store.append(log.tenant, leaves_of(log.tenant, 5, start=5))
    after = await log.checkpoint()
    assert before is not None
    assert after is not None
    trusted = SigningKeyStore.open(log.keys.directory).verifiers()
    assert verify_note(before, trusted).signers == (old_key,)
    assert verify_note(after, trusted).signers == (new_key,)
    verdict = await verify_tenant(log.store, log.tenant, log.anchors.read(), trusted)
    assert verdict.ok, verdict.findings
    assert (verdict.checkpoints, verdict.size) == (2, 10)
