"""``lock.audit`` -> ``lock_audit`` in PostgreSQL, one Merkle leaf per record id; signed checkpoints on a timer.

Records arrive keyed by tenant, so each tenant's records come in partition order and every replay appends the
same leaves in the same order. A batch is acknowledged only after it is committed in PostgreSQL (``take`` acks on
the next iteration), and a replayed record id is skipped, so at-least-once delivery stores each record once.
While PostgreSQL is unreachable the batch is retried with capped, jittered backoff: the audit stream waits and
is never skipped.
"""

from __future__ import annotations

import logging
import time

from adapters.postgres.audit_store import AuditStore
from adapters.postgres.pool import create_pool
from agents.dead_letters import dead_letter
from app.audit.anchors import AnchorFile, CheckpointRefusedError, publish_checkpoint
from app.audit.leaves import AuditLeaf, audit_leaf, by_tenant
from app.audit.signing_keys import SigningKeyStore
from app.db_retry import until_database_answers
from app.metrics import AUDIT_CHECKPOINTS, AUDIT_LEAVES_STORED, AUDIT_UNANCHORED_SINCE
from app.settings import settings
from app.streams import app, audit_anchors, lock_audit
from app.worker_state import worker_state

log = logging.getLogger(__name__)

BATCH_SIZE = 500
BATCH_WITHIN_S = 1.0
CHECKPOINT_INTERVAL_S = settings.audit_checkpoint_s


@app.agent(lock_audit, concurrency=1)
async def sink_audit_records(stream: object) -> None:
    """Append ``lock.audit`` to PostgreSQL in batches of up to ``BATCH_SIZE`` records or ``BATCH_WITHIN_S``."""
    # concurrency=1: per-tenant order is the leaf order, and faust-streaming #606 could commit past a batch.
    async for batch in stream.take(BATCH_SIZE, within=BATCH_WITHIN_S):  # type: ignore[attr-defined]
        await sink_batch(batch)


async def sink_batch(values: list[bytes]) -> None:
    """Append a batch of published audit records to their tenants' trees; malformed ones go to the DLQ."""
    leaves: list[AuditLeaf] = []
    to_checkpoint = worker_state().audit.to_checkpoint  # tenants whose tree this worker touched since a checkpoint
    for value in values:
        try:
            leaves.append(audit_leaf(value))
        except ValueError as err:
            await dead_letter(lock_audit.get_topic_name(), None, value, f"malformed audit record: {err}")
    for tenant, group in by_tenant(leaves).items():
        await _append_until_stored(tenant, group)
        AUDIT_LEAVES_STORED.labels(tenant).inc(len(group))
        # Even an all-duplicate batch marks the tenant: after a crash, its replayed records get checkpointed.
        if tenant not in to_checkpoint:  # the oldest leaf no checkpoint (published or under way) covers
            AUDIT_UNANCHORED_SINCE.labels(tenant).set(time.time())
        to_checkpoint.add(tenant)


@app.timer(interval=CHECKPOINT_INTERVAL_S)  # type: ignore[untyped-decorator]  # faust's timer is untyped
async def checkpoint_audit_trees() -> None:
    """Publish a signed checkpoint for every tenant this worker appended to, anchored to the topic and the file."""
    keys = SigningKeyStore.open(settings.data_dir / "audit" / "signing")
    anchors = AnchorFile.under(settings.data_dir)
    to_checkpoint = worker_state().audit.to_checkpoint
    for tenant in sorted(to_checkpoint):
        to_checkpoint.discard(tenant)  # appends during the publication mark it again
        try:
            await publish_checkpoint(await _audit_store(), keys, anchors, _send_anchor, tenant)
        except CheckpointRefusedError as err:
            # The tree no longer extends what was anchored: an alarm for a human, never a signature.
            log.error("audit checkpoint refused: %s", err)
            AUDIT_CHECKPOINTS.labels(tenant, "refused").inc()
            to_checkpoint.add(tenant)
        except Exception as err:  # a broker or database outage must not end the timer: retried on the next tick
            log.warning("audit checkpoint of %s postponed: %s", tenant, err)
            AUDIT_CHECKPOINTS.labels(tenant, "postponed").inc()
            to_checkpoint.add(tenant)
        else:
            AUDIT_CHECKPOINTS.labels(tenant, "published").inc()
            if tenant not in to_checkpoint:  # nothing appended while it was published
                AUDIT_UNANCHORED_SINCE.labels(tenant).set(0)


async def _append_until_stored(tenant: str, leaves: list[AuditLeaf]) -> None:
    async def append() -> None:
        await (await _audit_store()).append(tenant, leaves)

    await until_database_answers(append, cap_s=10.0, what="audit sink")


async def _audit_store() -> AuditStore:
    state = worker_state().audit
    if state.store is None:
        state.store = AuditStore(await create_pool(settings.database_url, max_size=2))
    return state.store


async def _send_anchor(tenant: str, note: str) -> None:
    sent = await audit_anchors.send(key=tenant, value=note.encode())
    await sent
