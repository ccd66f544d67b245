"""The disaster-recovery drill: lose the database, restore it to a point in time, prove what came back, replay the
rest of the audit log from Kafka, and prove the result against the checkpoints anchored before the loss.

A restore to an earlier point leaves each tenant's tree a prefix of what was anchored: verification reports those
leaves as ``lost``, and anything else as tampering, which stops the drill before replay. ``lock.audit`` still holds
every record in its original order, so appending the records the database lacks, in topic order, rebuilds exactly
the anchored trees. The audit sink must not run meanwhile (stop the workers): it would append the records it has
in flight ahead of the lost ones and fork the tree from its anchors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from adapters.postgres.audit_store import AuditStore
from adapters.postgres.pool import create_pool
from app.audit.anchors import Anchored
from app.audit.checkpoint import VerifierKey
from app.audit.leaves import AuditLeaf, audit_leaf
from app.audit.verify import Verdict, verify_tenant
from app.devstack.pitr import BaseBackup, Cluster, RecoveryPoint, RecoveryTarget
from app.topic_io import TopicRecord, read_topic

REPLAY_BATCH = 1000


@dataclass(frozen=True, slots=True)
class Replayed:
    """A record the restore lost and the drill replayed, and where it sits on ``lock.audit``."""

    record_id: str
    partition: int
    offset: int


@dataclass
class TenantRecovery:
    """One tenant's tree across the drill."""

    tenant: str
    restored: Verdict
    replayed: list[Replayed] = field(default_factory=list)
    final: Verdict | None = None


@dataclass
class DrillReport:
    """What the drill restored, from where, how long it took, and what had to be replayed."""

    backup: BaseBackup
    target: RecoveryTarget
    point: RecoveryPoint
    tenants: list[TenantRecovery] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every tenant's tree ends verified against every anchored checkpoint."""
        return all(t.final is not None and t.final.ok for t in self.tenants)

    def as_json(self) -> dict[str, Any]:
        """The report as JSON-ready data, for the drill's record and for CI."""
        return {
            "ok": self.ok, "backup": str(self.backup.path), "backup_finished_at": self.backup.finished_at.isoformat(),
            "target": str(self.target), "recovery_lsn": self.point.lsn,
            "recovery_time": self.point.time.isoformat() if self.point.time else None,
            "restore_seconds": round(self.point.restore_seconds, 3),
            "tenants": [{
                "tenant": t.tenant, "restored_size": t.restored.size, "anchored_size": t.restored.anchored_size,
                "restored_findings": [str(f) for f in t.restored.findings],
                "replayed": [{"record_id": r.record_id, "partition": r.partition, "offset": r.offset}
                             for r in t.replayed],
                "final_size": t.final.size if t.final else None,
                "final_findings": [str(f) for f in t.final.findings] if t.final else None,
            } for t in self.tenants],
        }


async def run_drill(cluster: Cluster, backup: BaseBackup, target: RecoveryTarget, *, database_url: str,
                    bootstrap: str, audit_topic: str, anchors: list[Anchored],
                    verifiers: list[VerifierKey]) -> DrillReport:
    """Lose the database, restore ``backup`` to ``target``, then verify, replay from ``audit_topic`` and verify."""
    # A target inside the segment being written must be reachable; without a target, lose what a crash loses.
    await cluster.simulate_loss(archive_current_wal=target != RecoveryTarget())
    report = DrillReport(backup, target, await cluster.restore(backup, target))
    published = _published_leaves(await read_topic(bootstrap, audit_topic))
    pool = await create_pool(database_url, max_size=2)
    try:
        store = AuditStore(pool)
        tenants = set(await store.tenants()) | set(published) | {a.tenant for a in anchors}
        for tenant in sorted(tenants):
            restored = await verify_tenant(store, tenant, anchors, verifiers)
            recovery = TenantRecovery(tenant, restored)
            report.tenants.append(recovery)
            if any(f.kind != "lost" for f in restored.findings):
                continue  # never append onto a tree that does not hold up: the drill fails with the findings
            recovery.replayed = await _replay(store, tenant, published.get(tenant, []))
            recovery.final = await verify_tenant(store, tenant, anchors, verifiers)
    finally:
        await pool.close()
    return report


def _published_leaves(published: list[TopicRecord]) -> dict[str, list[tuple[AuditLeaf, TopicRecord]]]:
    """The audit leaves on ``lock.audit`` per tenant in topic order; malformed ones were dead-lettered, not stored."""
    leaves: dict[str, list[tuple[AuditLeaf, TopicRecord]]] = {}
    for record in published:
        try:
            leaf = audit_leaf(record.value)
        except ValueError:
            continue
        leaves.setdefault(leaf.tenant, []).append((leaf, record))
    return leaves


async def _replay(store: AuditStore, tenant: str, published: list[tuple[AuditLeaf, TopicRecord]]) -> list[Replayed]:
    """Append the tenant's published records the database lacks, in topic order; the store skips the others."""
    replayed: list[Replayed] = []
    for start in range(0, len(published), REPLAY_BATCH):
        batch = published[start : start + REPLAY_BATCH]
        stored = await store.stored_ids(tenant, [leaf.record_id for leaf, _ in batch])
        for leaf, at in batch:
            if leaf.record_id not in stored:
                stored.add(leaf.record_id)  # a duplicate later in the topic is not replayed twice
                replayed.append(Replayed(leaf.record_id, at.partition, at.offset))
        await store.append(tenant, [leaf for leaf, _ in batch])
    return replayed
