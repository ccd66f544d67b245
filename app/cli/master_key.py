"""``lis master-key …``: rotate a property's master passcode on every lock, follow it, cancel it."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from datetime import UTC, datetime
from typing import Any

import typer
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from app.domain.master_shift import ShiftCancelled, ShiftRequested
from app.schema_registry import kafka_headers
from app.settings import settings

master_key_cli = typer.Typer(no_args_is_help=True, help="Master-key shifts: a new master on every lock of a property.")
TENANT = typer.Option(..., help="Tenant id.")
PROPERTY = typer.Option(..., "--property", help="Property id.")


@master_key_cli.command("shift")
def shift(tenant: str = TENANT, property_id: str = PROPERTY,
          per_gateway: int = typer.Option(1, help="Locks in flight per gateway."),
          max_in_flight: int = typer.Option(20, help="Locks in flight in all (the vendor's rate limit)."),
          wait: bool = typer.Option(True, help="Follow the shift's progress until it ends."),
          timeout: float = typer.Option(3600, help="Stop following after this many seconds.")) -> None:
    """Start a shift; with --wait (default) show a progress bar and end with the stragglers by lock."""
    shift_id = f"shift-{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(2)}"
    request = ShiftRequested(shift_id=shift_id, tenant=tenant, property=property_id, requested_by="lis-cli",
                             per_gateway=per_gateway, max_in_flight=max_in_flight)
    asyncio.run(_send(f"{tenant}/{property_id}", request))
    typer.echo(f"started {shift_id}")
    if wait:
        final = asyncio.run(_follow(shift_id, timeout))
        raise typer.Exit(0 if final.get("status") == "completed" and not final.get("stragglers") else 2)


@master_key_cli.command("cancel")
def cancel(shift_id: str, tenant: str = TENANT, property_id: str = PROPERTY) -> None:
    """Cancel a running shift: nothing new is dispatched; locks already shifted keep the new master."""
    command = ShiftCancelled(shift_id=shift_id, tenant=tenant, property=property_id, requested_by="lis-cli")
    asyncio.run(_send(f"{tenant}/{property_id}", command))
    typer.echo(f"cancel sent for {shift_id}")


async def _send(key: str, command: ShiftRequested | ShiftCancelled) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(settings.topic("ops.commands"), key=key.encode(),
                                     value=command.model_dump_json().encode(), headers=kafka_headers(command))
    finally:
        await producer.stop()


async def _follow(shift_id: str, follow_s: float) -> dict[str, Any]:
    consumer = AIOKafkaConsumer(settings.topic("lock.events"), bootstrap_servers=settings.kafka_bootstrap_servers,
                                auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    console = Console()
    latest: dict[str, Any] = {}
    deadline = time.monotonic() + follow_s
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                      TimeElapsedColumn(), console=console) as bar:
            task = bar.add_task(shift_id, total=None)
            while latest.get("status", "running") == "running" and time.monotonic() < deadline:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    for record in records:
                        event = json.loads(record.value)
                        if event.get("type") == "master_key.shift_progress" and event["shift_id"] == shift_id:
                            latest = event
                if latest:
                    counts = latest["counts"]
                    bar.update(task, total=latest["total"], completed=counts["done"] + counts["straggler"],
                               description=f"{shift_id} {latest['status']}")
    finally:
        await consumer.stop()
    _report(console, latest)
    return latest


def _report(console: Console, progress: dict[str, Any]) -> None:
    if not progress:
        console.print("no progress seen: is a worker running?")
        return
    console.print(f"{progress['shift_id']}: {progress['status']} — {progress['counts']}")
    if progress["stragglers"]:
        table = Table(title="stragglers (new master not live; old master still valid there)")
        table.add_column("lock")
        table.add_column("cause")
        for lock_id, cause in sorted(progress["stragglers"].items()):
            table.add_row(lock_id, cause)
        console.print(table)
