"""Load generators of the ingress benchmark: k6 (``webhooks.js``) when a k6 binary is there, else an aiohttp client;
both send signed Salto callbacks to a loopback URL, bounded in requests and time, and report a :class:`LoadResult`."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

from tests.benchmarks.ingress.live import salto_event, signed_headers

SCRIPT = Path(__file__).with_name("webhooks.js")


@dataclass(frozen=True)
class LoadResult:
    generator: str
    requests: int
    accepted_ratio: float
    rps: float
    p50_ms: float
    p99_ms: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def find_k6(explicit: str | None = None) -> str | None:
    """The k6 binary: ``explicit``, on PATH, or where ``go install go.k6.io/k6@...`` puts it."""
    gopath = Path(os.environ.get("GOPATH", Path.home() / "go"))
    for candidate in (explicit, shutil.which("k6"), str(gopath / "bin" / "k6")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def _loopback(url: str) -> None:
    if urlsplit(url).hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise ValueError(f"load tests only ever target this machine, not {url}")


def run_k6(k6: str, url: str, secret: str, locks: list[str], *, requests: int, concurrency: int,
           max_duration_s: int) -> LoadResult:
    """Run ``webhooks.js`` with k6 and read its summary."""
    _loopback(url)
    version = subprocess.run([k6, "version"], capture_output=True, text=True, check=True).stdout.split()[1]
    with tempfile.TemporaryDirectory() as work:
        summary_file = Path(work) / "summary.json"
        env = {**os.environ, "K6_NO_USAGE_REPORT": "true"}
        subprocess.run(
            [k6, "run", "--quiet", "-e", f"TARGET_URL={url}", "-e", f"WEBHOOK_SECRET={secret}",
             "-e", f"LOCKS={','.join(locks)}", "-e", f"REQUESTS={requests}", "-e", f"VUS={concurrency}",
             "-e", f"MAX_DURATION={max_duration_s}s", "-e", f"SUMMARY_FILE={summary_file}", str(SCRIPT)],
            check=False, env=env, timeout=max_duration_s + 60, stdout=subprocess.DEVNULL)
        metrics = json.loads(summary_file.read_text())["metrics"]
    duration = metrics["http_req_duration"]["values"]
    return LoadResult(generator=f"k6 {version}", requests=int(metrics["http_reqs"]["values"]["count"]),
                      accepted_ratio=float(metrics["checks"]["values"]["rate"]),
                      rps=float(metrics["http_reqs"]["values"]["rate"]), p50_ms=float(duration["p(50)"]),
                      p99_ms=float(duration["p(99)"]))


async def run_python(url: str, secret: str, locks: list[str], *, requests: int, concurrency: int,
                     max_duration_s: int) -> LoadResult:
    """The same traffic from ``concurrency`` aiohttp client tasks (used when k6 is not installed)."""
    _loopback(url)
    latencies: list[float] = []
    accepted = 0
    counter = iter(range(requests))
    deadline = time.monotonic() + max_duration_s

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal accepted
        for n in counter:
            if time.monotonic() > deadline:
                return
            body = salto_event(locks[n % len(locks)], "accessPoint.online")
            headers = signed_headers(body, secret)
            started = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                accepted += response.status == 202
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    done = len(latencies)
    return LoadResult(generator=f"python aiohttp {aiohttp.__version__}", requests=done,
                      accepted_ratio=accepted / max(done, 1), rps=done / elapsed,
                      p50_ms=latencies[done // 2] * 1000, p99_ms=latencies[min(done - 1, int(done * 0.99))] * 1000)
