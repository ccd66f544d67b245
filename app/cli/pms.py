"""``lis pms publish FILE``: send PMS reservation events from a JSON, JSON Lines or CSV file to ``pms.reservations``,
the way an integrator first tries the service (docs/PMS_INTEGRATION.md).

Every event is checked against the event schema first; a file with any invalid event sends nothing and names each
bad line. Events are keyed tenant/property/reservation and acknowledged by every in-sync replica.
"""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from aiokafka import AIOKafkaProducer
from pydantic import ValidationError

from app.domain.reservation import ReservationEvent
from app.infra.topics import PMS_MAX_RECORD_BYTES
from app.schema_registry import kafka_headers
from app.settings import settings

pms_cli = typer.Typer(no_args_is_help=True, help="PMS input: send reservation events as a PMS would.")
LIST_FIELDS = ("rooms",)  # CSV cells holding several values, separated by ";"


def read_events(path: Path) -> tuple[list[ReservationEvent], list[str]]:
    """The events of the file and, per invalid one, ``"<where>: <what>"``."""
    if path.suffix.lower() == ".csv":
        with path.open(newline="") as handle:
            rows: list[tuple[str, Any]] = [(f"line {n}", _csv_row(row))
                                           for n, row in enumerate(csv.DictReader(handle), start=2)]
    elif path.suffix.lower() == ".jsonl":
        rows = [(f"line {n}", json.loads(line)) for n, line in enumerate(path.read_text().splitlines(), start=1)
                if line.strip()]
    else:
        data = json.loads(path.read_text())
        rows = [(f"event {n}", item) for n, item in enumerate(data if isinstance(data, list) else [data], start=1)]
    events, errors = [], []
    for where, row in rows:
        try:
            events.append(ReservationEvent.model_validate(row))
        except ValidationError as err:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'event'}: {e['msg']}" for e in err.errors())
            errors.append(f"{where}: {problems}")
    return events, errors


def _csv_row(row: dict[str, str]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {name: value for name, value in row.items() if value not in ("", None)}
    for name in LIST_FIELDS:
        if name in cleaned:
            cleaned[name] = [part.strip() for part in cleaned[name].split(";") if part.strip()]
    return cleaned


async def publish(events: list[ReservationEvent]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all",
                                max_request_size=PMS_MAX_RECORD_BYTES)
    await producer.start()
    try:
        for event in events:
            await producer.send(settings.topic("pms.reservations"), key=event.stay_id.encode(),
                                value=event.model_dump_json().encode(), headers=kafka_headers(event))
        await producer.flush()
    finally:
        await producer.stop()


@pms_cli.command("publish")
def publish_command(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="JSON, .jsonl or .csv")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check the events, send nothing.")] = False,
) -> None:
    """Check every event of the file against the schema, then send them in file order."""
    events, errors = read_events(path)
    for error in errors:
        typer.echo(f"{path.name} {error}", err=True)
    if errors:
        typer.echo(f"{len(errors)} invalid event(s): nothing sent", err=True)
        raise typer.Exit(1)
    if not dry_run:
        asyncio.run(publish(events))
    typer.echo(f"{len(events)} event(s) {'valid' if dry_run else 'sent to ' + settings.topic('pms.reservations')}")
