"""A real Prometheus scrapes a worker and evaluates the service's own rules: an injected vendor outage makes the
key-issuance burn-rate page fire, and enough good issues after recovery resolve it; the status feed derived from the
same Prometheus shows the vendor operational before the outage and in a partial outage during it."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.devstack.prometheus import PrometheusServer
from tests.pipeline import Pipeline, distinct, fast_retries

FAILING, GOOD = 8, 150  # 8 / 158 = 5.1 % failed: under the 7.2 % (14.4 x 0.5 %) the fast burn alert pages at
RULES = Path(__file__).resolve().parents[2] / "observability" / "prometheus" / "rules.yml"
ALERT = "KeyIssuanceBudgetBurnFast"
pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow,
              pytest.mark.pipeline(rooms=FAILING + GOOD, worker_env=fast_retries(
                  LIS_RETRY_MAX_ATTEMPTS="2", LIS_QUICK_ATTEMPTS="1", LIS_BREAKER_MIN_CALLS="100000"))]


@pytest.fixture
async def prometheus(pipeline: Pipeline) -> AsyncIterator[PrometheusServer]:
    server = PrometheusServer.start(pipeline.stack.root / f"prometheus-{pipeline.tenant}",
                                    [f"127.0.0.1:{pipeline.metrics_port}"], RULES, interval_s=1.0)
    try:
        yield server
    finally:
        server.stop()


async def alert_state(prometheus: PrometheusServer, tenant: str) -> str | None:
    alerts = await asyncio.to_thread(prometheus.alerts)
    states = [a["state"] for a in alerts if a["labels"]["alertname"] == ALERT and a["labels"].get("tenant") == tenant]
    return states[0] if states else None


async def until_state(prometheus: PrometheusServer, tenant: str, wanted: str | None, timeout_s: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if await alert_state(prometheus, tenant) == wanted:
            return time.monotonic() - started
        await asyncio.sleep(1)
    ratio = await asyncio.to_thread(prometheus.query, "lis:key_issue_errors:ratio_rate5m")
    raise AssertionError(f"{ALERT} not {wanted} within {timeout_s} s (5 m error ratio: {ratio})")


async def until_component(pipeline: Pipeline, prometheus: PrometheusServer, wanted: str, timeout_s: float) -> str:
    """`lis status-feed` against the test's Prometheus until the TTLock component in eu-west has ``wanted``."""
    started, out = time.monotonic(), ""
    while time.monotonic() - started < timeout_s:
        out = pipeline.lis("status-feed", "--prometheus", prometheus.url, "--out",
                           str(pipeline.stack.root / f"status-{pipeline.tenant}"))
        if f"ttlock door keys (eu-west): {wanted}" in out:
            return out
        await asyncio.sleep(2)
    raise AssertionError(f"the status feed never showed ttlock in eu-west {wanted}: {out}")


async def test_a_vendor_outage_fires_the_issuance_burn_rate_page_and_recovery_resolves_it(
        pipeline: Pipeline, prometheus: PrometheusServer) -> None:
    events = pipeline.confirmations(range(1, FAILING + GOOD + 1))
    before = events[FAILING:FAILING + 10]  # good keys before the outage: the feed has calls to judge
    await pipeline.publish(before)
    await pipeline.read("lock.events", until=lambda rs: len(distinct(rs, "key.issued")) >= len(before))
    await until_component(pipeline, prometheus, "operational", timeout_s=60)
    summary = json.loads((pipeline.stack.root / f"status-{pipeline.tenant}" / "summary.json").read_text())
    assert summary["status"]["indicator"] == "none"

    await pipeline.inject("http_5xx", rate=1.0)
    for event in events[:FAILING]:  # spread over scrapes, so the counters' growth is seen (rate() needs it)
        await pipeline.publish([event])
        await asyncio.sleep(1)
    failed = await pipeline.read("lock.events", until=lambda rs: len(distinct(rs, "key.issue_failed")) >= FAILING,
                                 timeout_s=120)
    assert len(distinct(failed, "key.issue_failed")) == FAILING
    fired_after = await until_state(prometheus, pipeline.tenant, "firing", timeout_s=120)
    print(f"{ALERT} fired {fired_after:.0f} s after the last failure was published")
    during = await until_component(pipeline, prometheus, "partial_outage", timeout_s=60)
    assert "Partial System Outage" in during

    await pipeline.inject("clear")
    for start in range(FAILING + len(before), FAILING + GOOD, 10):
        await pipeline.publish(events[start:start + 10])
        await asyncio.sleep(1)
    issued = await pipeline.read("lock.events", until=lambda rs: len(distinct(rs, "key.issued")) >= GOOD,
                                 timeout_s=180)
    assert len(distinct(issued, "key.issued")) == GOOD
    resolved_after = await until_state(prometheus, pipeline.tenant, None, timeout_s=120)
    print(f"{ALERT} resolved {resolved_after:.0f} s after {GOOD} good issues")
