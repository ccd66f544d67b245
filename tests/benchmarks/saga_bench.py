"""Benchmark of the saga path (PMS confirmation → TTLock passcode → ``key.issued``) beside its anchor, in one run.

    .venv/bin/python -m tests.benchmarks.saga_bench                    # compare the ratios; exit 1 on a regression
    .venv/bin/python -m tests.benchmarks.saga_bench --update-baseline  # store this run as the baseline

Starts the project's Kafka and PostgreSQL (or uses ``KAFKA_BOOTSTRAP_SERVERS`` / ``DATABASE_URL``), the TTLock
sandbox (no gateway latency) and a worker. The anchor is the raw loop of ``saga/anchor.py``: aiokafka consume → one
httpx call to the same sandbox → produce with acks=all. Each row runs the anchor and the service on the same input
one after the other and reports their ratio: throughput over a backlog, p99 latency at paced rates, and the backlog
on two workers against one. A run fails when a ratio is worse than the baseline's by more than ``--tolerance``; the
issue's targets are printed beside, met or not. Every lock must hold exactly one passcode at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.devstack.stack import Stack
from tests.benchmarks.saga.anchor import AnchorAccount
from tests.benchmarks.saga.runs import Runs
from tests.pipeline import Pipeline

BASELINE = Path(__file__).with_name("saga") / "baseline.json"
EVIDENCE = Path(__file__).resolve().parents[2] / "docs" / "evidence" / "saga-bench"
TARGETS = {"throughput_ratio": 0.7, "two_worker_scaling": 1.6, "p99_ratio": 2.0}  # issue 14's "done when"


def _stopped(*_: object) -> None:
    """A TERM (a timeout's) still stops the stack the bench started: once, so a second TERM cannot cut the stop."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sys.exit(143)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backlog", type=int, default=2000, help="confirmations in the throughput backlog")
    parser.add_argument("--rates", default="10,20,35,100", help="paced rates of the latency rows, per second")
    parser.add_argument("--seconds", type=float, default=15, help="how long each paced rate is sent")
    parser.add_argument("--baseline", type=Path, default=BASELINE)
    parser.add_argument("--update-baseline", action="store_true", help="store this run as the new baseline")
    parser.add_argument("--tolerance", type=float, default=0.10, help="allowed regression of a ratio, 0.10 = 10%%")
    return parser.parse_args(argv)


def slices(start: int, sizes: list[int]) -> list[range]:
    """Consecutive room ranges of ``sizes``, from room ``start``: each run keys rooms no other run touched."""
    found = []
    for size in sizes:
        found.append(range(start, start + size))
        start += size
    return found


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    rates = [float(rate) for rate in args.rates.split(",")]
    paced = [round(rate * args.seconds) for rate in rates]
    backlog, *latency_rooms = slices(1, [args.backlog, *paced])
    stack = await Stack.start()
    one = two = None
    try:
        one = await Pipeline(stack=stack, rooms=args.backlog + sum(paced)).start()
        anchor = await AnchorAccount.provision(one.sandbox_url, range(1, args.backlog + sum(paced) + 1))
        runs = Runs(one, anchor)
        result: dict[str, Any] = {"throughput": {"anchor": await runs.anchor_backlog(backlog, "backlog")}}
        result["throughput"]["service"] = await runs.service_backlog(backlog)
        result["latency"] = {}
        for rate, rooms in zip(rates, latency_rooms, strict=True):
            anchor_hop = await runs.anchor_latency(rooms, rate)
            result["latency"][f"{rate:g}"] = {"anchor": anchor_hop, "service": await runs.service_latency(rooms, rate)}
        result["exactly_one_passcode"] = await one_passcode_each(one)
        one.stop()
        two = await Pipeline(stack=stack, rooms=args.backlog).start()
        two.start_worker(data_dir="-b")
        two_runs = Runs(two, anchor)
        await two_runs.wait_for_members(2)
        result["two_workers"] = await two_runs.service_backlog(range(1, args.backlog + 1))
        result["exactly_one_passcode"] &= await one_passcode_each(two)
    finally:
        for pipeline in (one, two):
            if pipeline is not None:
                pipeline.stop()
        stack.stop()
    result["ratios"] = ratios(result)
    result["settings"] = {"backlog": args.backlog, "rates": rates, "seconds": args.seconds}
    result["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version()}
    return result


async def one_passcode_each(pipeline: Pipeline) -> bool:
    """Judged on the sandbox: every lock of the pipeline holds exactly one credential."""
    held = await pipeline.sandbox_credentials()
    wrong = {lock: len(creds) for lock, creds in held.items() if len(creds) != 1}
    if wrong:
        print(f"locks without exactly one credential: {dict(list(wrong.items())[:10])} ({len(wrong)})",
              file=sys.stderr)
    return not wrong


def ratios(result: dict[str, Any]) -> dict[str, float]:
    """Service against anchor (throughput: higher is better; p99: lower is better), two workers against one."""
    found = {"throughput_ratio": result["throughput"]["service"]["per_s"] / result["throughput"]["anchor"]["per_s"],
             "two_worker_scaling": result["two_workers"]["per_s"] / result["throughput"]["service"]["per_s"]}
    for rate, row in result["latency"].items():
        if row["service"].get("p99_ms") and row["anchor"].get("p99_ms"):
            found[f"p99_ratio_at_{rate}"] = row["service"]["p99_ms"] / row["anchor"]["p99_ms"]
    return {name: round(value, 3) for name, value in found.items()}


def regressions(now: dict[str, float], then: dict[str, float], tolerance: float) -> list[str]:
    """Ratios worse than the baseline's by more than ``tolerance`` (p99 ratios up, the others down)."""
    found = []
    for name, value in now.items():
        if name not in then:
            continue
        lower_is_better = name.startswith("p99_ratio")
        worse = value > then[name] * (1 + tolerance) if lower_is_better else value < then[name] * (1 - tolerance)
        if worse:
            found.append(f"{name} {value:.3f} against the baseline's {then[name]:.3f} (± {tolerance:.0%})")
    return found


def targets(now: dict[str, float]) -> dict[str, bool]:
    """The issue's targets, met or not (reported, not enforced: the comparison with the baseline is)."""
    met = {}
    for name, value in now.items():
        target = TARGETS["p99_ratio"] if name.startswith("p99_ratio") else TARGETS[name]
        met[name] = value <= target if name.startswith("p99_ratio") else value >= target
    return met


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stopped)
    run = asyncio.run(bench(args))
    met = targets(run["ratios"])
    for name, value in run["ratios"].items():
        print(f"{name:24} {value:7.3f}   issue target {'met' if met[name] else 'NOT met'}")
    if not run["exactly_one_passcode"]:
        print("FAILED: a lock does not hold exactly one passcode", file=sys.stderr)
        return 1
    if args.update_baseline or not args.baseline.exists():
        args.baseline.write_text(json.dumps(run, indent=2) + "\n")
        print(f"baseline stored in {args.baseline}")
        return 0
    baseline = json.loads(args.baseline.read_text())
    if run["settings"] != baseline.get("settings"):
        print("settings differ from the baseline's: compare like with like, or --update-baseline", file=sys.stderr)
        return 2
    found = regressions(run["ratios"], baseline["ratios"], args.tolerance)
    now = datetime.now(UTC)
    EVIDENCE.mkdir(parents=True, exist_ok=True)
    path = EVIDENCE / f"{now:%Y-%m-%dT%H%MZ}.json"
    path.write_text(json.dumps({"date": now.isoformat(timespec="seconds"), "tolerance": args.tolerance,
                                "regressions": found, "targets_met": met, "run": run}, indent=2) + "\n")
    print(f"result stored in {path}")
    for line in found:
        print(f"REGRESSION: {line}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
