"""The ingress benchmark's verdict: a run fails against its baseline only when its throughput ratio to the bare
handler drops, or its p99 ratio grows, by more than the tolerance, or webhooks were refused."""

from __future__ import annotations

from typing import Any

import pytest

from tests.benchmarks.ingress_bench import regressions

BARE = {"rps": 5000.0, "p99_ms": 4.0}
BASELINE: dict[str, Any] = {"ingress": {"rps": 500.0, "p99_ms": 40.0, "accepted_ratio": 1.0}, "bare_aiohttp": BARE}


def run(rps: float, p99_ms: float, accepted: float = 1.0, bare: dict[str, float] = BARE) -> dict[str, Any]:
    return {"ingress": {"rps": rps, "p99_ms": p99_ms, "accepted_ratio": accepted}, "bare_aiohttp": bare}


@pytest.mark.parametrize(
    ("rps", "p99_ms", "accepted", "failures"),
    [
        (500.0, 40.0, 1.0, []),
        (451.0, 43.9, 1.0, []),
        (700.0, 20.0, 1.0, []),
        (449.0, 40.0, 1.0, ["throughput"]),
        (500.0, 44.1, 1.0, ["p99"]),
        (400.0, 60.0, 1.0, ["throughput", "p99"]),
        (500.0, 40.0, 0.95, ["accepted"]),
    ],
    ids=["same", "within-10pct", "better", "slower", "higher-p99", "both-worse", "refusals"],
)
def test_only_a_regression_beyond_the_tolerance_fails_the_run(rps: float, p99_ms: float, accepted: float,
                                                              failures: list[str]) -> None:
    found = regressions(run(rps, p99_ms, accepted), BASELINE, 0.10)
    assert [line.split()[0] for line in found] == failures


def test_a_busier_machine_that_slows_the_bare_handler_as_much_is_no_regression() -> None:
    assert regressions(run(250.0, 80.0, bare={"rps": 2500.0, "p99_ms": 8.0}), BASELINE, 0.10) == []


def test_the_same_numbers_on_a_quieter_machine_are_a_regression() -> None:
    found = regressions(run(500.0, 40.0, bare={"rps": 10000.0, "p99_ms": 2.0}), BASELINE, 0.10)
    assert [line.split()[0] for line in found] == ["throughput", "p99"]
