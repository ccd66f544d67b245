"""Signed checkpoints and their anchors outside the database: the ``lock.audit-anchors`` topic and a local file.

A checkpoint commits to a tenant's whole tree with one signed line; once anchored where the database's superuser
cannot reach, no change to an anchored leaf goes unnoticed. Before a checkpoint is published it is proven
consistent with the previous one anchored for the tenant: a tree that shrank or forked is refused, never signed.

Each tenant's tree is its own log, with origin ``lock-integration.audit/<tenant>``; one service key signs them all.
The anchor file holds one JSON line per checkpoint, ``{"tenant": ..., "note": ...}``, appended and never rewritten.

The audit tools that run outside a worker also read whole topics here: ``lis audit verify`` every checkpoint ever
anchored on ``lock.audit-anchors``, the DR drill the records of ``lock.audit`` a restore lost. They read from the
beginning up to the end offsets seen at the start, without a consumer group, so no worker's offsets move.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from app.audit.checkpoint import (
    Checkpoint,
    MalformedNoteError,
    NoteError,
    VerifierKey,
    format_checkpoint,
    open_checkpoint,
)
from app.audit.leaves import TreeHead
from app.audit.merkle import InvalidProofError, verify_consistency
from app.audit.signing_keys import SigningKeyStore
from app.topic_io import Send

ORIGIN_PREFIX = "lock-integration.audit"



class CheckpointRefusedError(Exception):
    """The tree is not consistent with the checkpoint anchored before: it shrank or forked. Never signed."""


class TreeSource(Protocol):
    """What publishing a checkpoint reads from the log (the Postgres audit store)."""

    async def head(self, tenant: str, size: int | None = None) -> TreeHead: ...

    async def consistency_proof(self, tenant: str, size1: int, size2: int) -> list[bytes]: ...


@dataclass(frozen=True, slots=True)
class Anchored:
    """A signed checkpoint note as found in an anchor, with the tenant it was filed under."""

    tenant: str
    note: str


def origin_for(tenant: str) -> str:
    """The checkpoint origin (log identity) of ``tenant``'s tree."""
    return f"{ORIGIN_PREFIX}/{tenant}"


class AnchorFile:
    """The append-only anchor file; concurrent appenders (a worker, the CLI) each write whole lines."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries: list[Anchored] = []
        self._offset = 0

    @classmethod
    def under(cls, data_dir: Path) -> AnchorFile:
        """The anchor file of a data dir."""
        return cls(data_dir / "audit" / "anchors.jsonl")

    def append(self, tenant: str, note: str) -> None:
        """Append one checkpoint note and make it durable before returning."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = (json.dumps({"tenant": tenant, "note": note}) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, line)  # one write of a whole line: O_APPEND keeps concurrent lines apart
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(self) -> list[Anchored]:
        """Every anchored note, oldest first; only what was appended since the last call is read from disk."""
        if not self.path.exists():
            return list(self._entries)
        with self.path.open("rb") as source:
            source.seek(self._offset)
            for line in source:
                if not line.endswith(b"\n"):
                    break  # a line still being written: read it next time
                self._offset += len(line)
                entry = json.loads(line)
                self._entries.append(Anchored(entry["tenant"], entry["note"]))
        return list(self._entries)


def open_anchored(anchored: Anchored, verifiers: Iterable[VerifierKey]) -> Checkpoint:
    """Verify an anchored note's signature and that it is a checkpoint of the tenant it was filed under."""
    checkpoint = open_checkpoint(anchored.note, verifiers)
    if checkpoint.origin != origin_for(anchored.tenant):
        raise MalformedNoteError(f"checkpoint of {checkpoint.origin!r} filed under tenant {anchored.tenant!r}")
    return checkpoint


def latest_anchored(anchors: Sequence[Anchored], tenant: str, verifiers: Sequence[VerifierKey]) -> Checkpoint | None:
    """The tenant's last anchored checkpoint that verifies (notes that do not are verify's business)."""
    for anchored in reversed(anchors):
        if anchored.tenant == tenant:
            try:
                return open_anchored(anchored, verifiers)
            except NoteError:
                continue
    return None


async def publish_checkpoint(tree: TreeSource, keys: SigningKeyStore, anchors: AnchorFile, send: Send,
                             tenant: str) -> str | None:
    """Sign the tenant's current tree head and anchor it to the topic, then the file; None if nothing is new.

    Raises :class:`CheckpointRefusedError` when the head is not consistent with the last anchored checkpoint.
    """
    head = await tree.head(tenant)
    if head.size == 0:
        return None
    previous = latest_anchored(anchors.read(), tenant, keys.verifiers())
    if previous is not None:
        if (previous.size, previous.root_hash) == (head.size, head.root_hash):
            return None
        # A shrunk tree has no proof to ask for; verify_consistency refuses it with the reason.
        grew = previous.size < head.size
        proof = await tree.consistency_proof(tenant, previous.size, head.size) if grew else []
        try:
            verify_consistency(previous.size, head.size, proof, previous.root_hash, head.root_hash)
        except InvalidProofError as err:
            raise CheckpointRefusedError(
                f"tenant {tenant}: tree of {head.size} leaves is not consistent with the anchored checkpoint "
                f"of {previous.size}: {err}") from err
    note = keys.sign(format_checkpoint(Checkpoint(origin_for(tenant), head.size, head.root_hash)))
    # The topic first: the file, which the next consistency check reads, only records what the broker accepted.
    await send(tenant, note)
    anchors.append(tenant, note)
    return note
