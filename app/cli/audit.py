"""``lis audit …`` and ``lis dr …``: checkpoints, proofs, verification and the disaster-recovery drill.

Every command reads the same settings as a worker: ``DATABASE_URL`` (the application role, so row-level security
scopes each tenant), ``KAFKA_BOOTSTRAP_SERVERS`` and ``LIS_TOPIC_PREFIX`` for the anchors and audit topics, and
``LIS_DATA_DIR`` for the signing keys and the anchor file.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import typer

from adapters.postgres.audit_store import AuditStore
from adapters.postgres.pool import create_pool
from app.audit.anchors import Anchored, AnchorFile, latest_anchored, publish_checkpoint
from app.audit.checkpoint import VerifierKey
from app.audit.merkle import leaf_hash, verify_consistency, verify_inclusion
from app.audit.signing_keys import SigningKeyStore
from app.audit.verify import Verdict, verify_tenant
from app.devstack.dr_drill import DrillReport, run_drill
from app.devstack.pitr import BaseBackup, Cluster, RecoveryTarget
from app.settings import settings
from app.topic_io import read_topic, topic_sender

audit_cli = typer.Typer(no_args_is_help=True, help="The tamper-evident audit log: checkpoints, proofs, verify.")
dr_cli = typer.Typer(no_args_is_help=True, help="Disaster recovery: PostgreSQL point-in-time restore drill.")

T = TypeVar("T")
TENANTS = typer.Option([], "--tenant", help="A tenant (repeatable); every tenant with an audit tree by default.")
PG_DATA = typer.Option(..., envvar="LIS_PG_DATA_DIR", help="Data dir of the project's PostgreSQL server.")
WAL_ARCHIVE = typer.Option(..., envvar="LIS_WAL_ARCHIVE_DIR", help="Folder its archive_command copies WAL to.")
ADMIN_URL = typer.Option(..., envvar="LIS_ADMIN_DATABASE_URL", help="Superuser URL of that server.")
BACKUPS = typer.Option(None, help="Base backup folder (default: <data dir>/dr/backups).")
TARGET_TIME = typer.Option(None, help="Restore to this ISO time with a UTC offset (recovery_target_time).")
TARGET_LSN = typer.Option(None, help="Restore to this LSN (recovery_target_lsn).")
REPORT = typer.Option(None, help="Write the JSON report here (default: <data dir>/dr/drill-<time>.json).")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def _keys() -> SigningKeyStore:
    return SigningKeyStore.open(settings.data_dir / "audit" / "signing")


def _verifiers() -> list[VerifierKey]:
    """The trusted public keys, read without creating a signing key where there is none."""
    return SigningKeyStore(settings.data_dir / "audit" / "signing").verifiers()


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


@asynccontextmanager
async def _store() -> AsyncIterator[AuditStore]:
    pool = await create_pool(settings.database_url, max_size=2)
    try:
        yield AuditStore(pool)
    finally:
        await pool.close()


async def _anchors(from_topic: bool) -> list[Anchored]:
    """Every anchored note: the anchor file's, then the topic's that the file lacks (another worker's)."""
    found = AnchorFile.under(settings.data_dir).read()
    if from_topic:
        topic = await read_topic(settings.kafka_bootstrap_servers, settings.topic("lock.audit-anchors"))
        found += [Anchored(r.key or "", r.value.decode(errors="replace")) for r in topic]
    return list(dict.fromkeys(found))


@audit_cli.command()
def checkpoint(tenant: list[str] = TENANTS) -> None:
    """Publish a signed checkpoint of each tree that grew, anchored to lock.audit-anchors and the anchor file."""

    async def publish() -> None:
        keys, anchors = _keys(), AnchorFile.under(settings.data_dir)
        async with _store() as store, topic_sender(settings.kafka_bootstrap_servers,
                                                   settings.topic("lock.audit-anchors")) as send:
            for name in tenant or await store.tenants():
                note = await publish_checkpoint(store, keys, anchors, send, name)
                typer.echo(f"{name}: " + ("unchanged since the last checkpoint" if note is None else "\n" + note))

    _run(publish())


@audit_cli.command()
def prove(
    tenant: str = typer.Option(..., "--tenant"),
    record: str | None = typer.Option(None, "--record", help="Inclusion proof of this record id."),
    size1: int | None = typer.Option(None, "--from", help="Consistency proof from this tree size…"),
    size2: int | None = typer.Option(None, "--to", help="…to this one."),
) -> None:
    """Print an inclusion proof (--record) or a consistency proof (--from/--to) as JSON, checked before printing.

    An inclusion proof is against the latest anchored checkpoint that holds the record, else the current tree.
    """
    if (record is None) == (size1 is None or size2 is None):
        raise typer.BadParameter("give either --record, or --from and --to")

    async def inclusion(record_id: str) -> dict[str, Any]:
        latest = latest_anchored(AnchorFile.under(settings.data_dir).read(), tenant, _verifiers())
        async with _store() as store:
            proof = await store.inclusion_proof(tenant, record_id, latest.size if latest else None)
            if proof is None and latest is not None:  # appended after the latest checkpoint
                latest, proof = None, await store.inclusion_proof(tenant, record_id)
        if proof is None:
            raise typer.BadParameter(f"record {record_id} is not in {tenant}'s audit tree")
        verify_inclusion(leaf_hash(proof.leaf.data), proof.leaf.index, proof.head.size, proof.path,
                         latest.root_hash if latest else proof.head.root_hash)
        return {"tenant": tenant, "record_id": record_id, "leaf_index": proof.leaf.index,
                "tree_size": proof.head.size, "root_hash": _b64(proof.head.root_hash),
                "leaf": proof.leaf.data.decode(), "inclusion_proof": [_b64(p) for p in proof.path],
                "anchored": latest is not None}

    async def consistency(old: int, new: int) -> dict[str, Any]:
        async with _store() as store:
            first, second = await store.head(tenant, old), await store.head(tenant, new)
            proof = await store.consistency_proof(tenant, old, new)
        verify_consistency(old, new, proof, first.root_hash, second.root_hash)
        return {"tenant": tenant, "from": old, "to": new, "root_from": _b64(first.root_hash),
                "root_to": _b64(second.root_hash), "consistency_proof": [_b64(p) for p in proof]}

    answer = _run(inclusion(record)) if record is not None else _run(consistency(size1 or 0, size2 or 0))
    typer.echo(json.dumps(answer, indent=2))


@audit_cli.command()
def verify(tenant: list[str] = TENANTS,
           topic: bool = typer.Option(True, "--topic/--no-topic", help="Also check the anchors topic's checkpoints.")
           ) -> None:
    """Recompute each tree from its rows, check every anchored checkpoint, name the first tampered leaf."""

    async def check() -> list[Verdict]:
        anchors, verifiers = await _anchors(topic), _verifiers()
        async with _store() as store:
            names = tenant or sorted(set(await store.tenants()) | {a.tenant for a in anchors})
            return [await verify_tenant(store, name, anchors, verifiers) for name in names]

    verdicts = _run(check())
    for verdict in verdicts:
        typer.echo(_summary(verdict))
    if not all(v.ok for v in verdicts):
        raise typer.Exit(1)


@audit_cli.command("rotate-key")
def rotate_key() -> None:
    """Start signing checkpoints with a new key; old public keys stay trusted for old checkpoints."""
    typer.echo(_keys().rotate().vkey)


@audit_cli.command("public-keys")
def public_keys() -> None:
    """Print every verifier key (C2SP vkey) the audit log has signed with, oldest first."""
    for key in _verifiers():
        typer.echo(key.vkey)


@dr_cli.command()
def backup(pg_data: Path = PG_DATA, wal_archive: Path = WAL_ARCHIVE, admin_url: str = ADMIN_URL,
           backups: Path | None = BACKUPS) -> None:
    """Take a base backup (pg_basebackup) of the project's PostgreSQL."""
    taken = _run(Cluster(pg_data, wal_archive, admin_url).base_backup(backups or _backups_dir()))
    typer.echo(f"base backup {taken.path} finished at {taken.finished_at.isoformat()}")


@dr_cli.command()
def drill(
    pg_data: Path = PG_DATA, wal_archive: Path = WAL_ARCHIVE, admin_url: str = ADMIN_URL,
    backups: Path | None = BACKUPS,
    target_time: str | None = TARGET_TIME, target_lsn: str | None = TARGET_LSN, report: Path | None = REPORT,
) -> None:
    """Lose the database (stop it, delete its data dir), restore it to a point in time from the base backup and the
    WAL archive, verify the audit trees against the anchored checkpoints, replay the lost records from lock.audit,
    and verify again. Stop the workers first: a running audit sink would race the replay."""
    at = datetime.fromisoformat(target_time) if target_time else None
    if at is not None and at.tzinfo is None:
        raise typer.BadParameter("--target-time needs a UTC offset, e.g. 2026-05-01T10:00:00+00:00")
    target = RecoveryTarget(time=at, lsn=target_lsn)
    base = BaseBackup.newest(backups or _backups_dir(), before=at)

    async def run() -> DrillReport:
        anchors = await _anchors(True)  # read before the loss: the anchors are what the restore is judged by
        return await run_drill(Cluster(pg_data, wal_archive, admin_url), base, target,
                               database_url=settings.database_url, bootstrap=settings.kafka_bootstrap_servers,
                               audit_topic=settings.topic("lock.audit"), anchors=anchors,
                               verifiers=_verifiers())

    result = _run(run())
    path = report or settings.data_dir / "dr" / f"drill-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result.as_json(), indent=2))
    point = result.point
    typer.echo(f"restored {base.path.name} to {target}: lsn {point.lsn}, last commit "
               f"{point.time.isoformat() if point.time else 'none'}, in {point.restore_seconds:.1f} s")
    for tenant in result.tenants:
        replayed = tenant.replayed
        where = (f" (partition {replayed[0].partition}, offsets {replayed[0].offset}..{replayed[-1].offset})"
                 if replayed else "")
        typer.echo(f"{tenant.tenant}: restored {tenant.restored.size} of {tenant.restored.anchored_size} anchored "
                   f"leaves; replayed {len(replayed)} from lock.audit{where}")
        typer.echo("  " + _summary(tenant.final or tenant.restored))
    typer.echo(f"report: {path}")
    if not result.ok:
        raise typer.Exit(1)


def _backups_dir() -> Path:
    return settings.data_dir / "dr" / "backups"


def _summary(verdict: Verdict) -> str:
    """One line for a tree that holds up; else the first tampered leaf and every finding."""
    head = (f"{verdict.tenant}: {verdict.size} leaves, {verdict.checkpoints} anchored checkpoints hold "
            f"(largest anchored size {verdict.anchored_size})")
    if verdict.ok:
        return head + ": verified"
    first = verdict.first_tampered
    named = (f"; first tampered leaf {first.leaf_index} (record {first.record_id})"
             if first is not None and first.leaf_index is not None else "")
    return "\n  ".join([f"{head}: NOT VERIFIED{named}", *map(str, verdict.findings)])
