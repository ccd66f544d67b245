"""Verification of a tenant's tree from its rows, stored nodes and anchored checkpoints, on an in-memory log.

The in-memory log keeps what the Postgres store keeps (rows, and the nodes ``nodes_to_store_after_append`` yields),
so each test can change one thing the way someone with write access to the database would.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from app.audit.anchors import Anchored, origin_for
from app.audit.checkpoint import Checkpoint, VerifierKey, format_checkpoint, sign_note
from app.audit.leaves import StoredLeaf
from app.audit.merkle import leaf_hash, nodes_to_store_after_append, root_from_store
from app.audit.verify import Verdict, verify_tenant
from tests.unit.test_audit_leaves import leaves_of

TENANT = "t1"
KEY = Ed25519PrivateKey.generate()
VERIFIER = VerifierKey("lis.test", KEY.public_key())


class MemoryLog:
    """Rows and stored nodes of one tenant, as lock_audit and lock_audit_nodes hold them."""

    def __init__(self, count: int) -> None:
        leaves = leaves_of(TENANT, count)
        self.rows = [StoredLeaf(i, TENANT, leaf.record_id, leaf.data) for i, leaf in enumerate(leaves)]
        self.stored: dict[tuple[int, int], bytes] = {}
        for row in self.rows:
            for node in nodes_to_store_after_append(row.index, leaf_hash(row.data), self.get_node):
                self.stored[(node.level, node.index)] = node.hash

    def get_node(self, level: int, index: int) -> bytes:
        return self.stored[(level, index)]

    def anchor(self, size: int) -> Anchored:
        text = format_checkpoint(Checkpoint(origin_for(TENANT), size, root_from_store(size, self.get_node)))
        return Anchored(TENANT, sign_note(text, VERIFIER.name, KEY))

    async def leaves(self, tenant: str) -> AsyncIterator[StoredLeaf]:
        for row in sorted(self.rows, key=lambda r: r.index):
            if row.tenant == tenant:
                yield row

    async def nodes(self, tenant: str, level: int) -> AsyncIterator[tuple[int, bytes]]:
        for (lvl, index), digest in sorted(self.stored.items()):
            if lvl == level:
                yield index, digest


def verify(log: MemoryLog, anchors: list[Anchored]) -> Verdict:
    return asyncio.run(verify_tenant(log, TENANT, anchors, [VERIFIER]))


def flip(data: bytes, position: int) -> bytes:
    return data[:position] + bytes([data[position] ^ 0x01]) + data[position + 1 :]


def test_an_untouched_tree_verifies_against_every_anchored_checkpoint() -> None:
    log = MemoryLog(13)
    verdict = verify(log, [log.anchor(5), log.anchor(8), log.anchor(13)])
    assert verdict.ok, verdict.findings
    assert (verdict.size, verdict.checkpoints, verdict.anchored_size) == (13, 3, 13)


@settings(max_examples=120, deadline=None)
@given(st.data())
def test_any_single_byte_changed_in_any_leaf_is_pinpointed_at_that_leaf(data: st.DataObject) -> None:
    log = MemoryLog(11)
    index = data.draw(st.integers(0, 10))
    row = log.rows[index]
    log.rows[index] = replace(row, data=flip(row.data, data.draw(st.integers(0, len(row.data) - 1))))
    verdict = verify(log, [log.anchor(8)])
    assert not verdict.ok
    assert verdict.first_tampered is not None
    assert (verdict.first_tampered.leaf_index, verdict.first_tampered.record_id) == (index, row.record_id)


def test_a_leaf_rewritten_with_its_stored_hashes_is_caught_by_the_anchored_checkpoint() -> None:
    log = MemoryLog(8)
    anchors = [log.anchor(4), log.anchor(8)]
    forged = leaves_of(TENANT, 1, start=99)[0]
    log.rows[5] = replace(log.rows[5], data=forged.data, record_id=forged.record_id)
    log.stored = {}
    for row in log.rows:  # the whole node table recomputed to match: only the anchor still knows better
        for node in nodes_to_store_after_append(row.index, leaf_hash(row.data), log.get_node):
            log.stored[(node.level, node.index)] = node.hash
    verdict = verify(log, anchors)
    assert [f.kind for f in verdict.findings] == ["tampered"]
    assert "a leaf in [4, 8) changed" in verdict.findings[0].detail
    assert verdict.checkpoints == 1


def test_a_record_id_column_that_differs_from_the_leaf_is_named() -> None:
    log = MemoryLog(6)
    log.rows[2] = replace(log.rows[2], record_id="t1-r999999")
    verdict = verify(log, [log.anchor(6)])
    assert verdict.first_tampered is not None
    assert (verdict.first_tampered.leaf_index, verdict.first_tampered.record_id) == (2, "t1-r999999")


def test_a_deleted_or_renumbered_row_is_a_gap_at_its_index() -> None:
    log = MemoryLog(6)
    log.rows[3] = replace(log.rows[3], index=300)
    verdict = verify(log, [log.anchor(6)])
    assert verdict.first_tampered is not None
    assert verdict.first_tampered.leaf_index == 3
    assert verdict.size == 3
    assert all(f.kind == "tampered" for f in verdict.findings)


def test_a_changed_subtree_hash_is_reported_as_a_node_finding_not_as_a_tampered_leaf() -> None:
    log = MemoryLog(8)
    log.stored[(2, 1)] = bytes(32)
    verdict = verify(log, [log.anchor(8)])
    assert [(f.kind, f.leaf_index) for f in verdict.findings] == [("node", 4)]
    assert verdict.first_tampered is None


def test_checkpoints_anchored_beyond_the_rows_are_lost_leaves_not_tampering() -> None:
    log = MemoryLog(10)
    anchors = [log.anchor(6), log.anchor(10)]
    log.rows = log.rows[:7]  # a restore to an earlier point in time
    log.stored = {key: digest for key, digest in log.stored.items() if (key[1] + 1) << key[0] <= 7}
    verdict = verify(log, anchors)
    assert [(f.kind, f.leaf_index) for f in verdict.findings] == [("lost", 7)]
    assert "leaves 7..9 are missing" in verdict.findings[0].detail
    assert verdict.checkpoints == 1


def test_an_anchored_note_with_a_bad_signature_or_from_another_log_is_refused() -> None:
    log = MemoryLog(4)
    good = log.anchor(4)
    text, _, signature = good.note.partition("\n\n")
    forged = Anchored(TENANT, text.replace("\n4\n", "\n3\n") + "\n\n" + signature)
    misfiled = Anchored("t2", good.note)
    verdict = verify(log, [good, forged, misfiled])
    assert sorted(f.kind for f in verdict.findings) == ["anchor"]
    assert "does not verify" in verdict.findings[0].detail
    assert verdict.checkpoints == 1
