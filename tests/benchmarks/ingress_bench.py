"""Benchmark of the webhook ingress against its baseline, with a bare aiohttp handler measured alongside.

    .venv/bin/python -m tests.benchmarks.ingress_bench                    # compare; exit 1 on a regression
    .venv/bin/python -m tests.benchmarks.ingress_bench --update-baseline  # store this run as the baseline

Starts the project's own Kafka and PostgreSQL (or uses ``KAFKA_BOOTSTRAP_SERVERS`` / ``DATABASE_URL``), a tenant with
sealed webhook secrets, and ``lis ingress serve``; sends signed Salto callbacks with k6 (``ingress/webhooks.js``) or,
without k6, an aiohttp client; then sends the same traffic to a bare aiohttp handler on the same machine. Every
request of the ingress run is verified, replay-checked in PostgreSQL and acknowledged by Kafka (acks=all). A run fails
when the ingress's throughput ratio to the bare handler drops, or its p99 ratio grows, by more than ``--tolerance``
against the baseline's ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.devstack.stack import Stack
from app.infra.ports import free_port, wait_for_port
from tests.benchmarks.ingress.live import LiveIngress
from tests.benchmarks.ingress.load import LoadResult, find_k6, run_k6, run_python

ROOT = Path(__file__).resolve().parents[2]
BASELINE = Path(__file__).with_name("ingress") / "baseline.json"
EVIDENCE = Path(__file__).resolve().parents[2] / "docs" / "evidence" / "load"
LOCKS = [f"AP-{n}" for n in range(1, 9)]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000, help="requests per run (bounded)")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent senders (k6 VUs)")
    parser.add_argument("--max-duration", type=int, default=30, help="seconds a run may take at most")
    parser.add_argument("--runs", type=int, default=3, help="runs per target; the best one counts (less noise)")
    parser.add_argument("--generator", choices=["auto", "k6", "python"], default="auto")
    parser.add_argument("--k6", help="path of the k6 binary (default: PATH, then $GOPATH/bin/k6)")
    parser.add_argument("--baseline", type=Path, default=BASELINE)
    parser.add_argument("--update-baseline", action="store_true", help="store this run as the new baseline")
    parser.add_argument("--tolerance", type=float, default=0.10, help="allowed regression, 0.10 = 10%%")
    return parser.parse_args(argv)


async def best_of(args: argparse.Namespace, url: str, secret: str) -> LoadResult:
    """The fastest of ``args.runs`` runs: other load on a shared machine only ever makes a run slower."""
    runs = [await measure(args, url, secret) for _ in range(args.runs)]
    return max(runs, key=lambda run: run.rps)


async def measure(args: argparse.Namespace, url: str, secret: str) -> LoadResult:
    k6 = find_k6(args.k6) if args.generator != "python" else None
    if args.generator == "k6" and k6 is None:
        raise SystemExit("no k6 binary: go install go.k6.io/k6@v1.8.1, or use --generator python")
    bounds = {"requests": args.requests, "concurrency": args.concurrency, "max_duration_s": args.max_duration}
    if k6 is not None:
        return await asyncio.to_thread(run_k6, k6, url, secret, LOCKS, **bounds)
    return await run_python(url, secret, LOCKS, **bounds)


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    stack = await Stack.start()
    # Production lookup caching; a rate limit far above what one tenant sends here, so it never refuses.
    live = LiveIngress(stack, salto_locks=tuple(LOCKS), env={"LIS_INGRESS_TENANT_RATE": "100000",
                                                             "LIS_INGRESS_TENANT_BURST": "100000",
                                                             "LIS_INGRESS_CACHE_TTL_S": "30"})
    try:
        await live.start()
        warmup = argparse.Namespace(**{**vars(args), "requests": 200, "max_duration": 20})
        await measure(warmup, live.salto_url(), live.salto_secret)
        ingress = await best_of(args, live.salto_url(), live.salto_secret)
        live.stop()
        port = free_port()
        bare = await asyncio.create_subprocess_exec(sys.executable, "-m", "tests.benchmarks.ingress.bare", "--port",
                                                    str(port), cwd=ROOT, start_new_session=True)
        await asyncio.to_thread(wait_for_port, port, 30, what="bare aiohttp handler")
        url = f"http://127.0.0.1:{port}/webhooks/salto/{live.tenant}"
        await measure(warmup, url, live.salto_secret)
        reference = await best_of(args, url, live.salto_secret)
        bare.terminate()
        await bare.wait()
    finally:
        live.stop()
        stack.stop()
    return {"ingress": ingress.as_dict(), "bare_aiohttp": reference.as_dict(),
            "settings": {"requests": args.requests, "concurrency": args.concurrency, "runs": args.runs,
                         "generator": ingress.generator},
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()}}


def ratios(run: dict[str, Any]) -> dict[str, float]:
    """The ingress against the bare handler of the same run: throughput (higher is better) and p99 (lower is)."""
    ingress, bare = run["ingress"], run["bare_aiohttp"]
    return {"throughput": ingress["rps"] / bare["rps"], "p99": ingress["p99_ms"] / bare["p99_ms"]}


def regressions(run: dict[str, Any], baseline: dict[str, Any], tolerance: float) -> list[str]:
    """What got worse than the baseline by more than ``tolerance``, as a ratio to the bare handler of the same run
    (a busier machine slows both): throughput ratio down or p99 ratio up; or webhooks refused."""
    now, then = ratios(run), ratios(baseline)
    found = []
    if now["throughput"] < then["throughput"] * (1 - tolerance):
        found.append(f"throughput {now['throughput']:.3f}x the bare handler < baseline {then['throughput']:.3f}x "
                     f"- {tolerance:.0%}")
    if now["p99"] > then["p99"] * (1 + tolerance):
        found.append(f"p99 {now['p99']:.2f}x the bare handler's > baseline {then['p99']:.2f}x + {tolerance:.0%}")
    if run["ingress"]["accepted_ratio"] < 0.99:
        found.append(f"accepted {run['ingress']['accepted_ratio']:.1%} of the webhooks, fewer than 99%")
    return found


def write_dated_result(run: dict[str, Any], found: list[str], tolerance: float) -> Path:
    """The comparison with the baseline, dated, in docs/evidence/load/ (`lis readiness` reads the newest)."""
    now = datetime.now(UTC)
    result = {"date": now.isoformat(timespec="seconds"), "generator": run["ingress"]["generator"],
              "tolerance": tolerance, "regressions": found, "ingress_rps": run["ingress"]["rps"],
              "bare_aiohttp_rps": run["bare_aiohttp"]["rps"],
              "ratio": round(ratios(run)["throughput"], 3), "p99_ratio": round(ratios(run)["p99"], 3), "run": run}
    path = EVIDENCE / f"{now:%Y-%m-%dT%H%MZ}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"result stored in {path}")
    return path


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    run = asyncio.run(bench(args))
    print(json.dumps(run, indent=2))
    ingress, bare = run["ingress"], run["bare_aiohttp"]
    print(f"ingress: {ingress['rps']:.0f} req/s p99 {ingress['p99_ms']:.1f} ms | bare aiohttp: {bare['rps']:.0f} "
          f"req/s p99 {bare['p99_ms']:.1f} ms | {ingress['generator']}")
    if args.update_baseline or not args.baseline.exists():
        args.baseline.write_text(json.dumps(run, indent=2) + "\n")
        print(f"baseline stored in {args.baseline}")
        return 0
    if run["settings"] != json.loads(args.baseline.read_text()).get("settings"):
        print("settings differ from the baseline's: compare like with like, or --update-baseline", file=sys.stderr)
        return 2
    baseline = json.loads(args.baseline.read_text())
    found = regressions(run, baseline, args.tolerance)
    write_dated_result(run, found, args.tolerance)
    for line in found:
        print(f"REGRESSION: {line}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
