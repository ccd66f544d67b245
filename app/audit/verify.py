"""Verifying a tenant's audit tree: recompute it from its rows, check it against the hashes stored when each leaf
was appended and against every anchored checkpoint, and name the first leaf that does not hold up.

Every column of a row is checked: the leaf bytes through their hash (against the stored leaf hash, which covers
leaves no checkpoint anchors yet, and against the anchored roots, which the database cannot rewrite), the record id
and tenant against the leaf's own, the leaf index by the rows having to number 0, 1, 2, ... without a gap. A row
changed in both tables at once still fails the anchored checkpoints, which bound it to the leaves between the last
checkpoint that holds and the first that does not.

Finding kinds: ``tampered`` (a row or the tree it builds differs from what was appended and anchored), ``node``
(a stored subtree hash is wrong: proofs served from it would be), ``anchor`` (a note whose signature or origin is
refused), ``lost`` (checkpoints were anchored for leaves the database no longer has: a restore to an earlier point,
to be replayed from Kafka).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from app.audit.anchors import Anchored, open_anchored
from app.audit.checkpoint import Checkpoint, NoteError, VerifierKey
from app.audit.leaves import StoredLeaf, read_leaf
from app.audit.merkle import HASH_SIZE, leaf_hash, node_hash, root_from_store

Kind = Literal["tampered", "node", "anchor", "lost"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing that does not hold up, with the leaf it concerns when it can be named."""

    kind: Kind
    detail: str
    leaf_index: int | None = None
    record_id: str | None = None

    def __str__(self) -> str:
        leaf = "" if self.leaf_index is None else f"leaf {self.leaf_index}"
        record = "" if self.record_id is None else f" (record {self.record_id})"
        return f"{self.kind}: {leaf}{record}{': ' if leaf else ''}{self.detail}"


@dataclass
class Verdict:
    """The outcome for one tenant's tree."""

    tenant: str
    size: int = 0
    checkpoints: int = 0
    anchored_size: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Nothing found: every row, stored node and anchored checkpoint holds up."""
        return not self.findings

    @property
    def first_tampered(self) -> Finding | None:
        """The tampering finding of the lowest leaf index (one naming no leaf comes last)."""
        tampered = [f for f in self.findings if f.kind == "tampered"]
        return min(tampered, key=lambda f: (f.leaf_index is None, f.leaf_index or 0), default=None)


class TreeRows(Protocol):
    """What verification reads from the database (the Postgres audit store)."""

    def leaves(self, tenant: str) -> AsyncIterator[StoredLeaf]: ...

    def nodes(self, tenant: str, level: int) -> AsyncIterator[tuple[int, bytes]]: ...


class TreeCheck:
    """The pure core: fed the stored leaf hashes, then the rows, then the stored nodes, then the checkpoints."""

    def __init__(self, tenant: str, stored_leaf_hashes: bytes) -> None:
        self.verdict = Verdict(tenant)
        self._stored = stored_leaf_hashes  # level 0 of lock_audit_nodes, 32 bytes per leaf index
        self._levels: list[bytearray] = [bytearray()]
        self._gap = False
        self._stored_nodes: dict[int, int] = {}  # level -> stored nodes seen within the recomputed tree

    def add_row(self, row: StoredLeaf) -> None:
        """Rehash and cross-check the next row; rows must arrive in leaf-index order."""
        expected = self.verdict.size
        if self._gap or row.index != expected:
            if not self._gap:
                self._flag("tampered", "no row holds this leaf: deleted, renumbered or moved to another tenant",
                           expected)
            self._gap = True  # leaves after a gap cannot be placed in the tree
            return
        digest = leaf_hash(row.data)
        stored = self._stored[HASH_SIZE * row.index : HASH_SIZE * (row.index + 1)]
        if digest != stored:
            self._flag("tampered", "leaf hash differs from the hash stored when it was appended", row.index,
                       row.record_id)
        try:
            record = read_leaf(row.data)
        except ValueError:
            self._flag("tampered", "leaf bytes are not a canonical audit record", row.index, row.record_id)
        else:
            if record.record_id != row.record_id:
                self._flag("tampered", f"record id column differs from the leaf's ({record.record_id})", row.index,
                           row.record_id)
            if record.tenant != row.tenant or row.tenant != self.verdict.tenant:
                self._flag("tampered", f"tenant column {row.tenant!r} differs from the leaf's {record.tenant!r}",
                           row.index, row.record_id)
        self._levels[0] += digest
        self.verdict.size += 1

    def finish_rows(self) -> None:
        """Build every complete subtree of the recomputed tree, level by level."""
        size, level = self.verdict.size, 0
        if not self._gap and len(self._stored) > HASH_SIZE * size:
            # Rows at the end are gone: the leaf hashes their appends stored still remember them, anchored or not.
            self._flag("tampered", "appended (its leaf hash is stored) but no row holds it: deleted or moved to "
                       "another tenant", size)
        while size >> (level + 1):
            below, above = self._levels[level], bytearray()
            for i in range(size >> (level + 1)):
                left, right = 2 * HASH_SIZE * i, (2 * i + 1) * HASH_SIZE
                above += node_hash(bytes(below[left:right]), bytes(below[right : right + HASH_SIZE]))
            self._levels.append(above)
            level += 1

    def check_stored_node(self, level: int, index: int, stored: bytes) -> None:
        """Compare one stored subtree hash (level >= 1) with the recomputed one."""
        if level < len(self._levels) and index < len(self._levels[level]) // HASH_SIZE:
            self._stored_nodes[level] = self._stored_nodes.get(level, 0) + 1
            if stored != self._node(level, index):
                self._flag("node", f"stored subtree hash ({level}, {index}) differs from the recomputed one",
                           index << level)

    def finish_nodes(self) -> None:
        """Flag levels where stored subtrees are missing: proofs needing them could not be served."""
        for level in range(1, len(self._levels)):
            missing = len(self._levels[level]) // HASH_SIZE - self._stored_nodes.get(level, 0)
            if missing:
                self._flag("node", f"{missing} stored subtree hashes of level {level} are missing")

    def check_anchors(self, anchors: Sequence[Anchored], verifiers: Sequence[VerifierKey]) -> None:
        """Check every anchored checkpoint of the tenant: signature, origin, and root at its size."""
        checkpoints: list[Checkpoint] = []
        for anchored in anchors:
            if anchored.tenant == self.verdict.tenant:
                try:
                    checkpoints.append(open_anchored(anchored, verifiers))
                except NoteError as err:
                    self._flag("anchor", f"anchored checkpoint refused: {err}")
        size, holds_up_to = self.verdict.size, 0
        for checkpoint in sorted(checkpoints, key=lambda c: c.size):
            self.verdict.anchored_size = max(self.verdict.anchored_size, checkpoint.size)
            if checkpoint.size > size:
                continue
            if root_from_store(checkpoint.size, self._node) == checkpoint.root_hash:
                self.verdict.checkpoints += 1
                holds_up_to = checkpoint.size
                continue
            named = [f for f in self.verdict.findings if f.kind == "tampered" and f.leaf_index is not None
                     and holds_up_to <= f.leaf_index < checkpoint.size]
            first = min(named, key=lambda f: f.leaf_index or 0) if named else None
            self._flag("tampered", f"anchored checkpoint of size {checkpoint.size} does not match the tree rebuilt "
                       f"from the rows: a leaf in [{holds_up_to}, {checkpoint.size}) changed",
                       first.leaf_index if first else None, first.record_id if first else None)
        if self.verdict.anchored_size > size:
            kind: Kind = "tampered" if self._gap else "lost"
            self._flag(kind, f"a checkpoint of size {self.verdict.anchored_size} is anchored but the database "
                       f"holds {size} leaves: leaves {size}..{self.verdict.anchored_size - 1} are missing", size)

    def _node(self, level: int, index: int) -> bytes:
        return bytes(self._levels[level][HASH_SIZE * index : HASH_SIZE * (index + 1)])

    def _flag(self, kind: Kind, detail: str, index: int | None = None, record_id: str | None = None) -> None:
        self.verdict.findings.append(Finding(kind, detail, index, record_id))


async def verify_tenant(rows: TreeRows, tenant: str, anchors: Sequence[Anchored],
                        verifiers: Sequence[VerifierKey]) -> Verdict:
    """Recompute ``tenant``'s tree from the database and check it against ``anchors``."""
    stored = bytearray()
    async for index, digest in rows.nodes(tenant, 0):
        # A missing stored leaf hash leaves a zero-filled slot, which then fails its row's comparison.
        stored += bytes(HASH_SIZE * (index - len(stored) // HASH_SIZE)) + digest
    check = TreeCheck(tenant, bytes(stored))
    async for row in rows.leaves(tenant):
        check.add_row(row)
    check.finish_rows()
    for level in range(1, check.verdict.size.bit_length()):
        async for index, digest in rows.nodes(tenant, level):
            check.check_stored_node(level, index, digest)
    check.finish_nodes()
    check.check_anchors(anchors, verifiers)
    check.verdict.findings.sort(key=lambda f: (f.leaf_index is None, f.leaf_index or 0))
    return check.verdict
