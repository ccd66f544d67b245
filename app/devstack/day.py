"""``lis dev``: the whole service on its embedded default, fed a simulated hotel day, with a live summary."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from app.dev_state import REACHABLE, DevStack, remove_state, write_state
from app.devstack.pms_simulator import TimedEvent, hotel_rooms, simulate_day
from app.devstack.prometheus import PrometheusServer
from app.devstack.stack import Stack
from app.devstack.vendors import locks_by_vendor, start_sandboxes
from app.directory_load import load_directory
from app.domain.directory import DirectoryLock, PropertyDirectory
from app.domain.lock_saga import LockSaga, VendorCall, VendorOutcome, new_saga, step_lock_saga
from app.domain.ops_access import OpsRole
from app.domain.stay import Stay, step_stay
from app.infra.ports import free_ports

TENANT, REGION, PROPERTY = "demo-hotels", "eu-west", "berlin-mitte"
TIME_ZONE = "Europe/Berlin"
OUTCOME_ROWS = ("key.issued", "key.updated", "key.revoked", "key.issue_failed", "key.revoke_failed")
RULES = Path(__file__).resolve().parents[2] / "observability" / "prometheus" / "rules.yml"
WIEGAND_ROOMS = frozenset({"617", "618", "619", "620"})  # guests get cards (the simulator asks for them)


def demo_directory() -> PropertyDirectory:
    """A 120-room hotel of mixed vendors: floors 1-3 and the lobby door on TTLock (a gateway per floor), floors 4-6
    on Salto (a gateway per floor) but for the last rooms of floor 6, whose offline locks take Generic Wiegand cards
    written at the front desk's encoder, and the staff area on Wiegand cards written at the back office."""
    locks = []
    for room in hotel_rooms():
        if room in WIEGAND_ROOMS:
            locks.append(DirectoryLock(lock_id=f"door-{room}", vendor="wiegand", vendor_lock_id=f"room-{room}",
                                       gateway_id="front-desk", room=room))
        elif int(room[0]) <= 3:
            locks.append(DirectoryLock(lock_id=f"door-{room}", vendor="ttlock", vendor_lock_id=str(10000 + int(room)),
                                       gateway_id=str(room[0]), room=room))
        else:
            locks.append(DirectoryLock(lock_id=f"door-{room}", vendor="salto", vendor_lock_id=f"ap-{room}",
                                       gateway_id=f"gw-{room[0]}", room=room))
    locks.append(DirectoryLock(lock_id="lobby", vendor="ttlock", vendor_lock_id="19999", gateway_id="9",
                               area="lobby", guest_access=True))
    locks.append(DirectoryLock(lock_id="staff-area", vendor="wiegand", vendor_lock_id="staff",
                               gateway_id="back-office", area="staff"))
    locks.append(DirectoryLock(lock_id="ttlock-test-lock", vendor="ttlock", vendor_lock_id="19998", gateway_id="9",
                               area="back office test lock", synthetic=True))  # lis synthetics' canary lock
    return PropertyDirectory(tenant=TENANT, region=REGION, property=PROPERTY, locks=tuple(locks))


def expected_outcomes(events: list[TimedEvent], directory: PropertyDirectory) -> int:
    """How many lock events the day should produce: the pure domain applied to the same events, every vendor call
    succeeding."""
    stays: dict[str, Stay | None] = {}
    sagas: dict[str, LockSaga] = {}
    total = 0
    for item in events:
        event = item.event
        locks = directory.locks_for_stay(event.rooms) if event.rooms else []
        stays[event.stay_id], commands = step_stay(stays.get(event.stay_id), event, locks, None)
        for command in commands:
            saga = sagas.get(command.lock.key) or new_saga(command.lock)
            saga, outputs = step_lock_saga(saga, command, event.occurred_at)
            for call in outputs:
                assert isinstance(call, VendorCall)
                outcome = VendorOutcome(action=call.action, stay=call.record.stay, ok=True, vendor_ref="ref",
                                        idempotency_key=call.record.idempotency_key)
                saga, settled = step_lock_saga(saga, outcome, event.occurred_at)
                total += len(settled)
            sagas[command.lock.key] = saga
    return total


async def run_dev(*, reservations: int, seconds: float, seed: int, keep: bool = False) -> int:
    console = Console()
    console.print("[bold]lock-integration-service[/] — starting PostgreSQL, Kafka, the TTLock and Salto sandboxes, "
                  "the Wiegand encoder simulator and a worker")
    stack = await Stack.start()
    # Library log lines (a Kafka client's retry, say) go to the stack's log, not over the progress display.
    logging.basicConfig(filename=stack.root / "lis-dev.log", level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        directory = demo_directory()
        sandboxes = await start_sandboxes(stack, locks_by_vendor(directory.locks))
        urls = {vendor: sandbox.url for vendor, sandbox in sandboxes.items()}
        accounts = {vendor: sandbox.account for vendor, sandbox in sandboxes.items()}
        path = stack.root / "directory.yaml"
        path.write_text(yaml.safe_dump([{"tenant": TENANT, "region": REGION, "name": "Demo Hotels", "properties": [
            {"property": PROPERTY, "time_zone": TIME_ZONE,
             "locks": [lock.model_dump(mode="json") for lock in directory.locks], "vendor_accounts": accounts}]}]))
        await load_directory(stack.database_url, path, stack.keys, allow_loopback_vendors=True)
        path.unlink()  # it held the sandbox accounts' secrets; the sealed copies are in PostgreSQL
        await stack.ensure_topics()
        worker_port, metrics_port, synthetics_port = free_ports(3)
        stack.spawn(["worker"], log_name="worker",
                    env=stack.env(LIS_WEB_PORT=str(worker_port), LIS_METRICS_PORT=str(metrics_port)))
        stack.spawn(["synthetics", "run", "--tenant", TENANT, "--rounds", "0", "--every", "10", "--metrics-port",
                     str(synthetics_port)], log_name="synthetics", env=stack.env())
        urls["ops"] = f"http://127.0.0.1:{worker_port}/ops/"
        prometheus = PrometheusServer.start(stack.root / "prometheus", [f"127.0.0.1:{metrics_port}",
                                                                        f"127.0.0.1:{synthetics_port}"], RULES,
                                            interval_s=1.0)
        stack.processes.append(prometheus.process)
        urls["prometheus"] = prometheus.url
        write_state(DevStack(pid=os.getpid(), root=stack.root, urls=urls,
                             env={name: value for name, value in stack.env().items() if name in REACHABLE}))
        events = simulate_day(TENANT, REGION, PROPERTY, hotel_rooms(), seed=seed, limit=reservations,
                              card_rooms=WIEGAND_ROOMS)
        expected = expected_outcomes(events, directory)
        console.print(f"simulating a day: {len(events)} PMS events, {expected} lock outcomes expected "
                      f"(logs in {stack.root})")
        counts, by_vendor, latencies, times = await _publish_and_watch(stack.kafka_bootstrap, events, expected,
                                                                       seconds, console)
        _summary(console, events, counts, by_vendor, latencies, expected)
        note = burst_note(*times, latencies)
        if note:
            console.print(note)
        await _slis(console, prometheus)
        await _status(console, prometheus, stack.root / "status")
        ok = sum(counts.values()) >= expected and not _failures(counts)
        if keep:
            await _keep_running(console, stack, urls["ops"])
        return 0 if ok else 1
    finally:
        remove_state(os.getpid())
        console.print("stopping everything" + (f"; logs kept in {stack.root}" if keep else ""))
        stack.stop(keep_files=keep)


async def _keep_running(console: Console, stack: Stack, ops_url: str) -> None:
    """Hold the stack until Ctrl-C or SIGTERM, telling how to reach it from another shell."""
    token = stack.ops_issuer.issue(subject="dev", role=OpsRole.PLATFORM_ADMIN, ttl_s=12 * 3600)
    console.print(f"ops console: {ops_url}console (property {TENANT}/{PROPERTY}); ops API: {ops_url}; sign in with "
                  f"this platform-admin token (more: lis ops token issue --role tenant-operator --tenant {TENANT}):"
                  f"\n{token}", soft_wrap=True)
    console.print(f"[bold]the dev stack keeps running[/] (logs in {stack.root}). From another shell, lis commands find "
                  "it "
                  f"by themselves (lis dlq list, lis audit verify --tenant {TENANT}, lis master-key shift "
                  f"--tenant {TENANT} --property {PROPERTY}); `eval \"$(lis dev env)\"` exports its settings. "
                  "Ctrl-C stops it.")
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stopped.set)
    try:
        await stopped.wait()
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


def _failures(counts: dict[str, int]) -> int:
    return sum(n for kind, n in counts.items() if kind.endswith("_failed"))


async def _publish_and_watch(bootstrap: str, events: list[TimedEvent], expected: int, seconds: float,
                             console: Console
                             ) -> tuple[dict[str, int], dict[str, int], list[float], tuple[list[float], list[float]]]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    consumer = AIOKafkaConsumer("lock.events", bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                group_id=None)
    await producer.start()
    await consumer.start()
    published: dict[str, float] = {}
    counts: dict[str, int] = {}
    by_vendor: dict[str, int] = {}
    latencies: list[float] = []
    outcome_times: list[float] = []
    seen: set[str] = set()
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  console=console) as progress:
        pms = progress.add_task("PMS events published", total=len(events))
        outcomes = progress.add_task("lock outcomes", total=expected)

        async def publish() -> None:
            started = time.monotonic()
            for item in events:
                await asyncio.sleep(max(0.0, started + item.at * seconds - time.monotonic()))
                published[item.event.event_id] = time.monotonic()
                await producer.send_and_wait("pms.reservations", key=item.event.stay_id.encode(),
                                             value=item.event.model_dump_json().encode())
                progress.advance(pms)

        publisher = asyncio.create_task(publish())
        deadline = time.monotonic() + seconds + 120
        try:
            while len(seen) < expected and time.monotonic() < deadline:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    for record in records:
                        event = json.loads(record.value)
                        if event["event_id"] in seen:
                            continue
                        seen.add(event["event_id"])
                        counts[event["type"]] = counts.get(event["type"], 0) + 1
                        by_vendor[event["vendor"]] = by_vendor.get(event["vendor"], 0) + 1
                        source = event["cause"].split(":")[1] if ":" in event["cause"] else ""
                        if source in published:
                            latencies.append(time.monotonic() - published[source])
                        outcome_times.append(time.monotonic())
                        progress.advance(outcomes)
            await publisher
        finally:
            publisher.cancel()
            await producer.stop()
            await consumer.stop()
    return counts, by_vendor, latencies, (sorted(published.values()), outcome_times)


def burst_note(published: list[float], outcomes: list[float], latencies: list[float]) -> str | None:
    """Why the latency is what it is, when PMS events arrived faster than the worker settles lock outcomes: the
    peak offered rate (events in the busiest second) against the worker's rate over the day; None otherwise."""
    if len(outcomes) < 2 or not published or not latencies:
        return None
    peak = max(sum(1 for t in published if start <= t < start + 1.0) for start in published)
    rate = (len(outcomes) - 1) / max(outcomes[-1] - outcomes[0], 1e-3)
    p99 = sorted(latencies)[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    if peak <= rate or p99 < 1.0:
        return None
    return (f"latency is queueing: {peak} PMS events arrived in the busiest second, the worker settles about "
            f"{rate:.0f} lock outcomes/s (one saga step at a time per partition), so the burst waits its turn")


async def _slis(console: Console, prometheus: PrometheusServer) -> None:
    """The service-level indicators as Prometheus computed them from the worker's metrics, and any alert."""
    await asyncio.sleep(2)  # a last scrape and rule evaluation after the day's final events
    ratio = await asyncio.to_thread(prometheus.query, f'lis:key_issue_errors:ratio_rate5m{{tenant="{TENANT}"}}')
    alerts = [a["labels"]["alertname"] for a in await asyncio.to_thread(prometheus.alerts) if a["state"] == "firing"]
    value = f"{float(ratio[0]['value'][1]) * 100:.2f} %" if ratio else "no data yet"
    console.print(f"SLIs from Prometheus ({prometheus.url}): key issue failures over 5 min {value} "
                  f"(SLO: at most 0.5 %); alerts firing: {', '.join(sorted(alerts)) or 'none'}")


async def _status(console: Console, prometheus: PrometheusServer, folder: Path) -> None:
    """The synthetic checks and the status feed, from the same Prometheus."""
    from app.observability.status_feed import publish, read_signals

    signals = await asyncio.to_thread(read_signals, prometheus.query)
    checks = [f"{vendor} in {region} " + ("passing" if found.synthetic_up == 1 else "FAILING")
              for (vendor, region), found in signals.items() if found.synthetic_up is not None]
    current = publish(folder, signals, datetime.now(UTC), page_name="Demo Hotels door keys",
                      page_url="http://127.0.0.1/status")
    components = ", ".join(f"{c['name']} {c['status']}" for c in current["components"]) or "no vendor calls yet"
    console.print(f"synthetic checks: {', '.join(checks) or 'none reported yet'}; status feed "
                  f"({folder / 'summary.json'}): {current['status']['description']} — {components}")


def _summary(console: Console, events: list[TimedEvent], counts: dict[str, int], by_vendor: dict[str, int],
             latencies: list[float], expected: int) -> None:
    table = Table(title="simulated day — summary")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("reservations seen", str(len({item.event.stay_id for item in events})))
    table.add_row("PMS events", str(len(events)))
    for kind in sorted(set(OUTCOME_ROWS) | set(counts)):  # every outcome, even the ones that did not happen
        table.add_row(kind, str(counts.get(kind, 0)))
    for vendor in sorted(by_vendor):
        table.add_row(f"outcomes on {vendor} locks", str(by_vendor[vendor]))
    table.add_row("lock outcomes expected", str(expected))
    if latencies:
        ordered = sorted(latencies)
        table.add_row("latency p50 (ms)", f"{statistics.median(ordered) * 1000:.0f}")
        table.add_row("latency p99 (ms)", f"{ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000:.0f}")
    console.print(table)


