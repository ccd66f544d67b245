"""Audit records as Merkle leaves: the canonical bytes a leaf hashes, and reading them back.

A leaf's data is the record as sorted-key compact JSON (UTF-8, no insignificant whitespace) of exactly the fields
the published record carries. The same published bytes always give the same leaf, so replaying ``lock.audit`` from
Kafka after a restore rebuilds the same tree, and the bytes are stored in the row so verification can rehash them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from app.domain.audit_record import AuditRecord


@dataclass(frozen=True, slots=True)
class AuditLeaf:
    """One audit record ready to append: its tenant (whose tree it joins), its id and its canonical bytes."""

    tenant: str
    record_id: str
    data: bytes


@dataclass(frozen=True, slots=True)
class StoredLeaf:
    """One stored leaf row, every column of it as read back: what verification rehashes and cross-checks."""

    index: int
    tenant: str
    record_id: str
    data: bytes


@dataclass(frozen=True, slots=True)
class TreeHead:
    """A tree size and its RFC 6962 root."""

    size: int
    root_hash: bytes


def canonical_json(value: Any) -> bytes:
    """Sorted-key compact UTF-8 JSON: one spelling per value."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def audit_leaf(raw: bytes) -> AuditLeaf:
    """The leaf of a record as published on ``lock.audit``; a ``ValueError`` if it is not an audit record.

    Fields the publisher left out stay out (``exclude_unset``), so a field added to the model later does not
    change the leaves of records published before it.
    """
    record = AuditRecord.model_validate_json(raw)
    data = canonical_json(record.model_dump(mode="json", exclude_unset=True))
    return AuditLeaf(tenant=record.tenant, record_id=record.record_id, data=data)


def read_leaf(data: bytes) -> AuditRecord:
    """The audit record a stored leaf holds; a ``ValueError`` if the bytes are not a canonical audit record."""
    record = AuditRecord.model_validate_json(data)
    if canonical_json(record.model_dump(mode="json", exclude_unset=True)) != data:
        raise ValueError("leaf bytes are not in canonical form")
    return record


def by_tenant(leaves: Iterable[AuditLeaf]) -> dict[str, list[AuditLeaf]]:
    """The leaves grouped per tenant's tree, each group in arrival order (which fixes the leaf order)."""
    groups: dict[str, list[AuditLeaf]] = {}
    for leaf in leaves:
        groups.setdefault(leaf.tenant, []).append(leaf)
    return groups
