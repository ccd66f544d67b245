"""No guest data, code or vendor secret in clear where the classification does not allow it: a stay is run through
the real worker with planted canaries — a guest id that is an email address, a phone number for a Salto mobile key,
the PINs and card numbers the locks got, the vendor accounts' secrets — and then every record of every topic of the
pipeline (changelogs, lock events, audit, dead letters), every row of every PostgreSQL table, every log file of the
service and the worker's RocksDB files are searched for each of them in clear. Allowed (docs/security/
classification.yaml): the guest's own data on ``pms.reservations`` as the PMS sent it, card numbers in the
``card_numbers`` table (the allocator's), and everything on the vendor side (the sandboxes and their logs).
RocksDB's files are searched byte for byte, which proves little where RocksDB compresses its blocks (Snappy by
default); the tables' changelog topics, which hold the same records, are searched as the records themselves."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from adapters.postgres.pool import create_pool
from adapters.postgres.vendor_accounts import load_vendor_account
from tests.builders import stay_to_come
from tests.checker import fetch_journals
from tests.pipeline import Pipeline

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow,
              pytest.mark.pipeline(rooms=4, salto_rooms=1, wiegand_rooms=1, worker_env={"LIS_LOG_FORMAT": "json"})]

GUEST = "ada.lovelace.canary@example.com"
PHONE = "+491517770001234"


async def test_no_canary_is_in_clear_outside_the_places_the_classification_allows(pipeline: Pipeline) -> None:
    start = stay_to_come()
    kinds = {101: {"credential_kind": "mobile_key", "mobile_key_account": PHONE}, 102: {"credential_kind": "card"}}
    events = [pipeline.room_event(event_id=f"c{room}", type="reservation.confirmed", reservation=f"R{room}",
                                  sequence=1, occurred_at=datetime.now(UTC), rooms=[str(room)], arrival=start,
                                  departure=start + timedelta(days=2),
                                  guest_id=GUEST, **kinds.get(room, {})) for room in (101, 102, 103, 104)]
    await pipeline.publish(events)
    report = await pipeline.settled_history(events)
    assert report.clean, report.summary()

    canaries = {"guest id": GUEST, "phone": PHONE} | await _vendor_secrets(pipeline) | await _codes(pipeline)
    assert len(canaries) >= 6, canaries  # guest id, phone, 2 PINs, a card number, the accounts' secrets
    found = (await _on_topics(pipeline, canaries) + await _in_tables(pipeline, canaries)
             + _in_files(pipeline, canaries))
    assert found == [], "\n".join(found)


async def _vendor_secrets(pipeline: Pipeline) -> dict[str, str]:
    pool = await create_pool(pipeline.stack.database_url, max_size=1)
    try:
        found: dict[str, str] = {}
        for vendor in ("ttlock", "salto"):
            config = await load_vendor_account(pool, pipeline.stack.keys, pipeline.tenant, "p1", vendor) or {}
            found |= {f"{vendor} {name}": str(value) for name, value in config.items()
                      if name in ("client_secret", "password") and value}
        return found
    finally:
        await pool.close()


async def _codes(pipeline: Pipeline) -> dict[str, str]:
    """The PINs and card numbers the locks hold, as the sandboxes' journals record them."""
    urls = {"ttlock": pipeline.sandbox_url, "salto": pipeline.salto_url, "wiegand": pipeline.wiegand_url}
    journals = await fetch_journals({vendor: url for vendor, url in urls.items() if url})
    codes = {f"{vendor} code {entry['secret']}": str(entry["secret"]) for vendor, entries in journals.items()
             for entry in entries if entry.get("secret") and str(entry["secret"]).isdigit()}
    return {name: code for name, code in codes.items() if len(code) >= 4}


def _hits(text: str, canaries: dict[str, str]) -> list[str]:
    return [name for name, value in canaries.items()
            if re.search(rf"(?<![0-9A-Za-z]){re.escape(value)}(?![0-9A-Za-z])", text)]


async def _on_topics(pipeline: Pipeline, canaries: dict[str, str]) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=pipeline.stack.kafka_bootstrap)
    await admin.start()
    try:
        topics = [t for t in await admin.list_topics() if t.startswith((pipeline.prefix, pipeline.app_id))]
    finally:
        await admin.close()
    assert any(t.endswith("-changelog") for t in topics), topics  # the tables' changelogs are searched too
    guest = {name: value for name, value in canaries.items() if name in ("guest id", "phone")}
    found = []
    for topic in topics:
        consumer = AIOKafkaConsumer(topic, bootstrap_servers=pipeline.stack.kafka_bootstrap, group_id=None,
                                    auto_offset_reset="earliest", enable_auto_commit=False)
        await consumer.start()
        try:
            text = ""
            while batches := await consumer.getmany(timeout_ms=1500):
                for records in batches.values():
                    text += "".join(f"{_text(r.key)} {_text(r.value)} {r.headers}\n" for r in records)
        finally:
            await consumer.stop()
        allowed = guest if topic == pipeline.topic("pms.reservations") else {}
        found += [f"topic {topic}: {name}" for name in _hits(text, canaries) if name not in allowed]
    return found


def _text(data: bytes | None) -> str:
    return (data or b"").decode(errors="replace")


async def _in_tables(pipeline: Pipeline, canaries: dict[str, str]) -> list[str]:
    conn = await asyncpg.connect(pipeline.stack.admin_database_url)
    try:
        tables = [row["tablename"] for row in await conn.fetch("SELECT tablename FROM pg_tables "
                                                                 "WHERE schemaname = 'public'")]
        found = []
        for table in tables:
            rows = await conn.fetch(f'SELECT row_to_json(t)::text AS row FROM "{table}" t')
            text = "\n".join(row["row"] for row in rows)
            allowed = {name for name in canaries if name.startswith("wiegand code")} if table == "card_numbers" \
                else set()
            found += [f"table {table}: {name}" for name in _hits(text, canaries) if name not in allowed]
        return found
    finally:
        await conn.close()


def _in_files(pipeline: Pipeline, canaries: dict[str, str]) -> list[str]:
    """The service's logs (the sandboxes' are the vendor's) and the worker's RocksDB files, byte for byte."""
    root: Path = pipeline.stack.root
    files = [f for f in root.glob("*.log") if not f.name.startswith("sandbox-")]
    files += [f for f in (root / pipeline.tenant).rglob("*") if f.is_file()]
    worker_logs = [f for f in files if f.name.startswith(f"worker-{pipeline.tenant}")]
    assert worker_logs, [f.name for f in files]
    for line in worker_logs[0].read_text(errors="replace").splitlines():  # LIS_LOG_FORMAT=json: JSON lines
        if line.startswith("{"):
            assert set(json.loads(line)) >= {"ts", "level", "logger", "message"}, line
    return [f"file {f.relative_to(root)}: {name}" for f in files
            for name in _hits(f.read_bytes().decode("latin-1"), canaries)]
