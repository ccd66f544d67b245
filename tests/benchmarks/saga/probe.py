"""What the saga benchmark measures with: CPU and peak memory of a process from ``/proc``, a reader that timestamps
every record of a topic with its broker timestamp, and a paced publisher of PMS events."""

from __future__ import annotations

import asyncio
import json
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a live process has used so far (Linux ``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set size so far (``VmHWM``), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class CpuWindow:
    """CPU used by named processes between :meth:`open` and :meth:`close`, as a share of one core."""

    pids: dict[str, int]
    _start: dict[str, float] = field(default_factory=dict)
    _started_at: float = 0.0

    def open(self) -> None:
        self._start = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self._started_at = time.monotonic()

    def close(self) -> dict[str, float]:
        wall = max(time.monotonic() - self._started_at, 1e-9)
        return {name: round((cpu_seconds(pid) - self._start[name]) / wall, 3) for name, pid in self.pids.items()}


@dataclass(frozen=True)
class Stamped:
    """One JSON record and its broker timestamp (the producer's clock: CreateTime), in seconds."""

    at: float
    value: dict[str, object]


async def read_stamped(bootstrap: str, topic: str, *, until: Callable[[list[Stamped]], bool], timeout_s: float,
                       on_batch: Callable[[list[Stamped]], None] | None = None) -> list[Stamped]:
    """Every record of ``topic`` from its start until ``until(records)`` holds or ``timeout_s`` passed;
    ``on_batch`` sees each batch as it arrives (to sample CPU close to the first and the last record)."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    records: list[Stamped] = []
    deadline = time.monotonic() + timeout_s
    try:
        while not until(records) and time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=50)).values():
                stamped = [Stamped(r.timestamp / 1000, json.loads(r.value)) for r in batch]
                records.extend(stamped)
                if on_batch is not None:
                    on_batch(stamped)
    finally:
        await consumer.stop()
    return records


async def publish_paced(bootstrap: str, topic: str, items: Sequence[tuple[bytes, bytes]], rate: float) -> None:
    """Send ``items`` (key, value) at ``rate`` per second, each at its due time, and wait until the broker has
    them all (acks=all)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0)
    await producer.start()
    try:
        started = time.monotonic()
        sent = []
        for n, (key, value) in enumerate(items):
            await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
            sent.append(await producer.send(topic, key=key, value=value))
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile of ``values`` (``share`` 0.99 for p99)."""
    ordered = sorted(values)
    rank = math.ceil(round(share * len(ordered), 9))  # rounded first: 0.99 * 100 is 99.00000000000001 in floats
    return ordered[min(len(ordered), max(1, rank)) - 1]


def rate_of(stamps: Sequence[float]) -> float:
    """Records per second from the first to the last of ``stamps``."""
    if len(stamps) < 2:
        raise ValueError(f"a rate needs at least two records, got {len(stamps)}: did the run answer at all?")
    span = max(stamps) - min(stamps)
    return (len(stamps) - 1) / span if span > 0 else 0.0
