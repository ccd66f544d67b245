"""Anti-entropy on the lock saga's own partition: a :class:`ReconcileLock` command lists the lock's credentials,
compares them with the saga (``app.domain.reconcile``), repairs unless it is a dry run, and publishes the verdict
on ``lock.events``. A scheduled sweep sends the command for every lock this worker holds sagas of."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from app.db_retry import until_database_answers
from app.domain.audit_record import audit_reconciled
from app.domain.errors import LockError
from app.domain.lock_saga import LockSaga
from app.domain.reconcile import LockReconciled, ReconcileLock, find_drift, repairs, verdict
from app.metrics import RECONCILE_DRIFT, RECONCILE_RUNS
from app.runtime import runtime
from app.settings import settings
from app.streams import app, lock_audit, lock_commands, lock_events, send_model
from tables.sagas import lock_sagas, read_lock_saga


async def reconcile_lock(key: str, command: ReconcileLock) -> LockReconciled:
    rt, lock = await runtime(), command.lock
    saga = read_lock_saga(key, lock)
    try:
        port = await until_database_answers(lambda: rt.ports.port(lock.tenant, lock.property, lock.vendor))
        if not port.capabilities.lists_credentials:
            report = verdict(command, None, None, repaired=False, now=datetime.now(UTC),
                             detail=f"{lock.vendor} cannot list credentials: nothing to compare")
        else:
            listed = await rt.caller.listing(port, lock)
            drift = find_drift(saga, listed, datetime.now(UTC))
            removals = [*drift.stray, *drift.duplicates]
            redrives = repairs(saga, drift, command.run_id, remote=port.capabilities.remote_update)
            repaired = not command.dry_run and bool(removals or redrives)
            if repaired:
                for credential in removals:
                    await rt.caller.remove(port, lock, credential.vendor_ref)
                for redrive in redrives:
                    await send_model(lock_commands, key, redrive)
            report = verdict(command, drift, len(listed), repaired=repaired, now=datetime.now(UTC))
            for problem, count in drift.counts().items():
                RECONCILE_DRIFT.labels(problem).inc(count)
    except LockError as err:
        report = verdict(command, None, None, repaired=False, now=datetime.now(UTC), detail=f"{err.cause}: {err}")
    found = report.stray or report.duplicates or report.missing or report.drifted or report.landed
    RECONCILE_RUNS.labels("failed" if report.listed is None else "repaired" if report.repaired
                          else "reported" if found else "clean").inc()
    if found or report.listed is None:
        await send_model(lock_audit, lock.tenant, audit_reconciled(report))
    await send_model(lock_events, key, report)
    return report


@app.timer(interval=settings.reconcile_s)  # type: ignore[untyped-decorator]
async def sweep_held_locks() -> None:
    """Reconcile every lock whose saga this worker holds; the command runs on the lock's partition, in order."""
    run_id = f"sweep-{uuid.uuid4().hex[:12]}"
    for key, raw in list(lock_sagas.items()):
        command = ReconcileLock(lock=LockSaga.model_validate_json(raw).lock, run_id=run_id)
        await send_model(lock_commands, key, command)
