"""``lis reconcile``: anti-entropy for one property, now — every lock's listing against its saga, repaired unless
``--dry-run``, with a progress bar and a summary table of what differed.

The command sends one ``ReconcileLock`` per lock of the property (from the directory in PostgreSQL) on
``lock.commands``; the worker that owns each lock's partition judges and repairs it in order with its sagas, and
answers with a ``lock.reconciled`` event on ``lock.events``, which this command follows.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import typer
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from app.domain.reconcile import ReconcileLock
from app.schema_registry import kafka_headers
from app.settings import settings

PROBLEMS = ("stray", "duplicates", "missing", "drifted", "landed")
EXIT_DRIFT_FOUND = 8  # --dry-run found differences (nothing repaired); 3-7 are the service errors of app/cli_errors


async def run_reconcile(tenant: str, property_id: str, *, dry_run: bool, timeout_s: float) -> int:
    """Reconcile every lock of the property; the exit code (0 clean or repaired, 1 unanswered or failed, 8 drift
    found in a dry run)."""
    from adapters.postgres.directory import PostgresDirectory
    from adapters.postgres.pool import create_pool

    if not settings.database_url:
        raise typer.BadParameter("DATABASE_URL is not set: the locks of the property come from the directory")
    pool = await create_pool(settings.database_url, max_size=1)
    try:
        directory = await PostgresDirectory(pool).property_directory(tenant, property_id)
    finally:
        await pool.close()
    if directory is None or not directory.locks:
        raise typer.BadParameter(f"no locks for {tenant}/{property_id} in the directory")
    run_id = f"cli-{uuid.uuid4().hex[:12]}"
    commands = [ReconcileLock(lock=directory.ref(lock), run_id=run_id, dry_run=dry_run) for lock in directory.locks]
    console = Console()
    reports = await _send_and_follow(commands, timeout_s, console)
    return _summary(console, commands, reports, dry_run)


async def _send_and_follow(commands: list[ReconcileLock], timeout_s: float, console: Console
                           ) -> dict[str, dict[str, Any]]:
    bootstrap, events_topic = settings.kafka_bootstrap_servers, settings.topic("lock.events")
    # Subscribed without a group, the consumer is assigned every partition of the topic once metadata arrives.
    consumer = AIOKafkaConsumer(events_topic, bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await consumer.start()
    await producer.start()
    reports: dict[str, dict[str, Any]] = {}
    try:
        partitions = await _partitions(consumer, events_topic)
        await consumer.seek_to_end(*partitions)  # answers come after our commands: start at today's end
        for tp in partitions:
            await consumer.position(tp)
        for command in commands:
            await producer.send(settings.topic("lock.commands"), key=command.lock.key.encode(),
                                value=command.model_dump_json().encode(), headers=kafka_headers(command))
        await producer.flush()
        deadline = time.monotonic() + timeout_s
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                      TimeElapsedColumn(), console=console) as bar:
            task = bar.add_task(f"reconciling {commands[0].lock.property}", total=len(commands))
            while len(reports) < len(commands) and time.monotonic() < deadline:
                for batch in (await consumer.getmany(timeout_ms=500)).values():
                    for record in batch:
                        event = json.loads(record.value or b"{}")
                        if event.get("type") == "lock.reconciled" and event.get("run_id") == commands[0].run_id:
                            reports[event["lock_id"]] = event
                bar.update(task, completed=len(reports))
    finally:
        await producer.stop()
        await consumer.stop()
    return reports


async def _partitions(consumer: AIOKafkaConsumer, topic: str, wait_s: float = 30.0) -> list[TopicPartition]:
    deadline = time.monotonic() + wait_s
    while not consumer.assignment():
        if time.monotonic() > deadline:
            raise typer.BadParameter(f"topic {topic} has no partitions: is this the service's broker and prefix?")
        await asyncio.sleep(0.1)
    return sorted(consumer.assignment(), key=lambda tp: tp.partition)


def _summary(console: Console, commands: list[ReconcileLock], reports: dict[str, dict[str, Any]],
             dry_run: bool) -> int:
    table = Table(title=f"reconcile {commands[0].run_id}" + (" (dry run: nothing repaired)" if dry_run else ""))
    for column in ("lock", "vendor", "listed", *PROBLEMS, "action"):
        table.add_column(column)
    totals = dict.fromkeys(PROBLEMS, 0)
    failed = [c.lock.lock_id for c in commands if c.lock.lock_id not in reports]
    for lock_id, report in sorted(reports.items()):
        found = {name: len(report[name]) for name in PROBLEMS}
        for name, count in found.items():
            totals[name] += count
        if report["listed"] is None:
            failed.append(lock_id)
        action = report["detail"] or ("repaired" if report["repaired"] else "none needed" if not any(
            found.values()) else "reported")
        if any(found.values()) or report["listed"] is None:
            table.add_row(lock_id, report["vendor"], str(report["listed"]), *map(str, found.values()), action)
    console.print(table)
    unanswered = [c.lock.lock_id for c in commands if c.lock.lock_id not in reports]
    console.print(f"{len(reports)}/{len(commands)} locks answered; " + ", ".join(
        f"{name} {count}" for name, count in totals.items()) + (f"; no answer from {unanswered}" if unanswered else ""))
    if failed:
        return 1
    return EXIT_DRIFT_FOUND if dry_run and any(totals.values()) else 0


def reconcile_command(tenant: str, property_id: str, dry_run: bool, timeout_s: float) -> None:
    raise typer.Exit(asyncio.run(run_reconcile(tenant, property_id, dry_run=dry_run, timeout_s=timeout_s)))
