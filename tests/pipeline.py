"""A running pipeline for e2e and chaos tests: unique topics, app id and tenant per test on the shared stack,
the real TTLock sandbox and real worker processes, and helpers to publish PMS events and read what came out."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from app.devstack.fault_proxy import FaultProxy
from app.devstack.stack import Stack
from app.devstack.vendors import start_sandboxes
from app.directory_load import load_directory
from app.domain.directory import DirectoryLock, PropertyDirectory
from app.domain.reservation import ReservationEvent
from app.domain.stay_times import PropertyTimes
from app.infra.ports import free_ports
from app.infra.topics import PMS_MAX_RECORD_BYTES
from tests.builders import stay_to_come
from tests.pipeline_vendors import VendorSide


def fast_retries(**overrides: str) -> dict[str, str]:
    """Worker settings for delayed retries that fit in a test (0.2 s base, 0.5 s cap, 0.2 s scan), with a test's
    own overrides: ``fast_retries(LIS_RETRY_MAX_ATTEMPTS="3")``."""
    return {"LIS_RETRY_BASE_S": "0.2", "LIS_RETRY_CAP_S": "0.5", "LIS_RETRY_SCAN_S": "0.2", **overrides}


@dataclass
class Pipeline(VendorSide):
    stack: Stack
    rooms: int
    prefix: str = field(default_factory=lambda: f"t{uuid.uuid4().hex[:8]}.")
    sandbox_url: str = ""
    directory: PropertyDirectory | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    worker_env: dict[str, str] = field(default_factory=dict)
    salto_rooms: int = 0  # the first rooms get Salto locks, the next wiegand_rooms Wiegand ones, the rest TTLock
    salto_url: str = ""
    wiegand_rooms: int = 0
    wiegand_url: str = ""
    vendor_timeout_s: float | None = None  # the adapters' client timeout (5 s, Wiegand 2 s, unless set)
    time_zone: str = "Europe/Berlin"  # the property's, in the directory
    web_port: int = 0  # the current worker's Faust web server (ops API)
    metrics_port: int = 0  # the current worker's Prometheus metrics
    vendor_proxy: FaultProxy | None = None  # when set, the worker reaches the TTLock sandbox through it
    ledger: bool = False  # workers append each processed offset to ``ledger_path`` (LIS_PROCESSED_LEDGER)
    offline_fallback: dict[str, int] | None = None  # the property's, in the directory (docs/FAILURE_MODES.md)
    canary: bool = False  # a TTLock test lock for the synthetic checks (`canary-1`, synthetic, no guest access)

    @property
    def tenant(self) -> str:
        return self.prefix.rstrip(".")

    @property
    def ledger_path(self) -> Path:
        """The processed-offset file the workers append to when ``ledger`` is set."""
        return self.stack.root / f"{self.tenant}-processed.txt"

    @property
    def app_id(self) -> str:
        return f"lis-{self.tenant}"

    def topic(self, name: str) -> str:
        return f"{self.prefix}{name}"

    async def start(self) -> Pipeline:
        """Sandbox with ``rooms`` locks, the directory in PostgreSQL, topics, and one worker."""
        base = int(uuid.uuid4().int % 10**6) * 10_000
        gateways = max(4, self.rooms // 20)
        salto = tuple(DirectoryLock(lock_id=f"door-{n}", vendor="salto", vendor_lock_id=f"ap-{base + n}",
                                    gateway_id=f"gw-{n % gateways}", room=str(100 + n))
                      for n in range(1, self.salto_rooms + 1))
        first_ttlock = self.salto_rooms + self.wiegand_rooms + 1
        wiegand = tuple(DirectoryLock(lock_id=f"door-{n}", vendor="wiegand", vendor_lock_id=f"zone-{n}",
                                      gateway_id=f"encoder-{n % 2}", room=str(100 + n))
                        for n in range(self.salto_rooms + 1, first_ttlock))
        ttlock = tuple(DirectoryLock(lock_id=f"door-{n}", vendor="ttlock", vendor_lock_id=str(base + n),
                                     gateway_id=str(base + n % gateways), room=str(100 + n))
                       for n in range(first_ttlock, self.rooms + 1))
        if self.canary:
            ttlock += (DirectoryLock(lock_id="canary-1", vendor="ttlock", vendor_lock_id=str(base + 9_999),
                                     gateway_id=str(base), area="test-lock", synthetic=True),)
        locks = salto + wiegand + ttlock
        self.directory = PropertyDirectory(tenant=self.tenant, region="eu-west", property="p1", locks=locks,
                                           times=PropertyTimes(time_zone=self.time_zone),
                                           offline_fallback=self.offline_fallback)
        # TTLock's sandbox runs even with no TTLock room: the tests' default vendor, whose URL they read.
        wanted = {"ttlock": ttlock, **({"salto": salto} if salto else {}), **({"wiegand": wiegand} if wiegand else {})}
        sandboxes = await start_sandboxes(self.stack, wanted)
        accounts = {vendor: sandbox.account for vendor, sandbox in sandboxes.items()}
        self.sandbox_url = sandboxes["ttlock"].url
        self.salto_url = sandboxes["salto"].url if salto else ""
        self.wiegand_url = sandboxes["wiegand"].url if wiegand else ""
        if self.vendor_proxy is not None:
            self.vendor_proxy.target_port = int(httpx.URL(self.sandbox_url).port or 0)
            accounts["ttlock"]["base_url"] = f"http://127.0.0.1:{await self.vendor_proxy.start()}"
        if self.vendor_timeout_s is not None:
            for config in accounts.values():
                config["timeout_s"] = self.vendor_timeout_s
        path = self.stack.root / f"{self.tenant}.yaml"
        path.write_text(yaml.safe_dump([{"tenant": self.tenant, "region": "eu-west", "properties": [
            {"property": "p1", "time_zone": self.time_zone, "locks": [lock.model_dump(mode="json") for lock in locks],
             "vendor_accounts": accounts,
             **({"offline_fallback": self.offline_fallback} if self.offline_fallback else {})}]}]))
        await load_directory(self.stack.database_url, path, self.stack.keys, allow_loopback_vendors=True)
        path.unlink()
        await self.stack.ensure_topics(self.prefix)
        if self.ledger:
            self.worker_env = {**self.worker_env, "LIS_PROCESSED_LEDGER": str(self.ledger_path)}
        self.start_worker()
        return self

    def start_worker(self, data_dir: str = "", same_address: bool = False) -> subprocess.Popen[bytes]:
        """A worker of the pipeline's group; a second one alive beside it needs a ``data_dir`` name of its own (its
        RocksDB tables), a restarted one takes over the default's. ``same_address``: it listens where the last one
        did, as a restarted pod of a StatefulSet keeps its name (a static member's canonical URL must not change)."""
        if not same_address:
            self.web_port, self.metrics_port = free_ports(2)
        env = self.stack.env(**{"LIS_TOPIC_PREFIX": self.prefix, "LIS_APP_ID": self.app_id,
                                "LIS_WEB_PORT": str(self.web_port), "LIS_METRICS_PORT": str(self.metrics_port),
                                "LIS_SESSION_TIMEOUT_S": "10",
                                "LIS_DATA_DIR": str(self.stack.root / f"{self.tenant}{data_dir}"), **self.worker_env})
        loglevel = os.environ.get("LIS_TEST_WORKER_LOGLEVEL", "warning")  # info, to investigate a failed run
        worker = self.stack.spawn(["worker", "--loglevel", loglevel], log_name=f"worker-{self.tenant}", env=env)
        self.workers.append(worker)
        return worker

    def kill_worker(self, worker: subprocess.Popen[bytes]) -> None:
        """SIGKILL: no clean shutdown, no final commit, no flush."""
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)

    def stop(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                worker.terminate()
                try:
                    worker.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    worker.kill()

    def lis(self, *args: str, exit_code: int = 0) -> str:
        """Run a ``lis`` command against this pipeline's topics; its output, once it exited with ``exit_code``."""
        env = self.stack.env(LIS_TOPIC_PREFIX=self.prefix, LIS_APP_ID=self.app_id, COLUMNS="200")
        result = subprocess.run([sys.executable, "-m", "app", *args], env=env, capture_output=True, text=True,
                                timeout=300)
        assert result.returncode == exit_code, f"lis {' '.join(args)} exited {result.returncode}: {result.stderr}"
        return result.stdout

    def room_event(self, **fields: Any) -> ReservationEvent:
        return ReservationEvent.model_validate({"tenant": self.tenant, "region": "eu-west", "property": "p1",
                                                **fields})

    def confirmations(self, rooms: Iterable[int], *, nights: int = 2) -> list[ReservationEvent]:
        """One two-night confirmation per room number n: reservation Rn in room 100+n (lock door-n)."""
        start = stay_to_come()
        return [self.room_event(event_id=f"c{n}", type="reservation.confirmed", reservation=f"R{n}", sequence=1,
                                occurred_at=datetime.now(UTC), rooms=[str(100 + n)], arrival=start,
                                departure=start + timedelta(days=nights)) for n in rooms]

    async def publish(self, events: Iterable[ReservationEvent | tuple[str, bytes]]) -> None:
        """Publish PMS events (or raw ``(key, bytes)`` pairs, for malformed input) and wait for the broker."""
        producer = AIOKafkaProducer(bootstrap_servers=self.stack.kafka_bootstrap, acks="all",
                                    max_request_size=PMS_MAX_RECORD_BYTES)
        await producer.start()
        try:
            for item in events:
                if isinstance(item, ReservationEvent):
                    key, value = item.stay_id, item.model_dump_json().encode()
                else:
                    key, value = item
                await producer.send(self.topic("pms.reservations"), key=key.encode(), value=value)
            await producer.flush()
        finally:
            await producer.stop()

    async def read(self, topic: str, *, until: Any, timeout_s: float = 120) -> list[dict[str, Any]]:
        """Every JSON record of ``topic`` from the start, read until ``until(records)`` is true or time runs out."""
        consumer = AIOKafkaConsumer(self.topic(topic), bootstrap_servers=self.stack.kafka_bootstrap,
                                    auto_offset_reset="earliest", group_id=None)
        await consumer.start()
        records: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout_s
        try:
            while not until(records) and time.monotonic() < deadline:
                for batch in (await consumer.getmany(timeout_ms=500)).values():
                    records.extend(json.loads(r.value) for r in batch)
        finally:
            await consumer.stop()
        return records

    async def unprocessed_offsets(self, ledger: Path, topics: list[str], *, settle_s: float = 60,
                                  ) -> dict[str, list[int]]:
        """Per ``topic[partition]``, the offsets below the end of the partition that no worker's processed-offset
        ledger (``LIS_PROCESSED_LEDGER``) holds — waiting up to ``settle_s`` for the tail still in flight."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.stack.kafka_bootstrap)
        await admin.start()
        try:
            described = await admin.describe_topics([self.topic(name) for name in topics])
        finally:
            await admin.close()
        tps = [TopicPartition(topic["topic"], partition["partition"]) for topic in described
               for partition in topic["partitions"]]
        consumer = AIOKafkaConsumer(bootstrap_servers=self.stack.kafka_bootstrap, group_id=None)
        await consumer.start()
        try:
            consumer.assign(tps)
            starts, ends = await consumer.beginning_offsets(tps), await consumer.end_offsets(tps)
        finally:
            await consumer.stop()
        deadline = time.monotonic() + settle_s
        while True:
            seen = await asyncio.to_thread(_ledger_offsets, ledger)
            missing = {f"{tp.topic}[{tp.partition}]": sorted(set(range(starts[tp], ends[tp]))
                                                              - seen.get((tp.topic, tp.partition), set()))
                       for tp in tps}
            missing = {name: offsets for name, offsets in missing.items() if offsets}
            if not missing or time.monotonic() > deadline:
                return missing
            await asyncio.sleep(2)

def _ledger_offsets(ledger: Path) -> dict[tuple[str, int], set[int]]:
    seen: dict[tuple[str, int], set[int]] = {}
    for line in ledger.read_text().splitlines() if ledger.exists() else []:
        topic, partition, offset, _pid = line.split()
        seen.setdefault((topic, int(partition)), set()).add(int(offset))
    return seen


def distinct(events: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    """Events of one type by event id: a replayed event has the same id and counts once."""
    return {e["event_id"]: e for e in events if e["type"] == kind}
