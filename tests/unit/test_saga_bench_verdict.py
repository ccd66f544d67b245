"""The saga benchmark's arithmetic and verdict: rates and percentiles from broker timestamps, the ratios to the raw
loop, and a run failing against its baseline only when a ratio got worse by more than the tolerance."""

from __future__ import annotations

from typing import Any

import pytest

from tests.benchmarks.saga.probe import percentile, rate_of
from tests.benchmarks.saga.runs import latencies
from tests.benchmarks.saga_bench import ratios, regressions, slices, targets

BASELINE = {"throughput_ratio": 0.5, "two_worker_scaling": 1.5, "p99_ratio_at_10": 2.0}


def run(service: float, anchor: float, two_workers: float, p99: tuple[float, float]) -> dict[str, Any]:
    return {"throughput": {"service": {"per_s": service}, "anchor": {"per_s": anchor}},
            "two_workers": {"per_s": two_workers},
            "latency": {"10": {"service": {"p99_ms": p99[0]}, "anchor": {"p99_ms": p99[1]}}}}


def test_the_ratios_are_the_service_against_the_raw_loop_and_two_workers_against_one() -> None:
    assert ratios(run(50, 200, 80, (30, 10))) == {"throughput_ratio": 0.25, "two_worker_scaling": 1.6,
                                                 "p99_ratio_at_10": 3.0}


def test_a_latency_row_the_service_did_not_answer_gives_no_ratio() -> None:
    unanswered = run(50, 200, 80, (30, 10))
    unanswered["latency"]["10"]["service"] = {"events": 30, "answered": 0}
    assert "p99_ratio_at_10" not in ratios(unanswered)


@pytest.mark.parametrize(
    ("now", "failures"),
    [
        ({"throughput_ratio": 0.46, "two_worker_scaling": 1.36, "p99_ratio_at_10": 2.19}, []),
        ({"throughput_ratio": 0.9, "two_worker_scaling": 1.9, "p99_ratio_at_10": 1.0}, []),
        ({"throughput_ratio": 0.44, "two_worker_scaling": 1.5, "p99_ratio_at_10": 2.0}, ["throughput_ratio"]),
        ({"throughput_ratio": 0.5, "two_worker_scaling": 1.3, "p99_ratio_at_10": 2.0}, ["two_worker_scaling"]),
        ({"throughput_ratio": 0.5, "two_worker_scaling": 1.5, "p99_ratio_at_10": 2.3}, ["p99_ratio_at_10"]),
        ({"throughput_ratio": 0.5, "p99_ratio_at_35": 9.0}, []),
    ],
    ids=["within-10pct", "better", "slower", "scales-less", "higher-p99", "row-not-in-baseline"],
)
def test_only_a_ratio_worse_than_the_baseline_beyond_the_tolerance_fails(now: dict[str, float],
                                                                         failures: list[str]) -> None:
    assert [line.split()[0] for line in regressions(now, BASELINE, 0.10)] == failures


def test_the_issue_targets_are_judged_in_the_direction_of_each_ratio() -> None:
    met = targets({"throughput_ratio": 0.7, "two_worker_scaling": 1.59, "p99_ratio_at_10": 2.0, "p99_ratio_at_35": 2.1})
    assert met == {"throughput_ratio": True, "two_worker_scaling": False, "p99_ratio_at_10": True,
                   "p99_ratio_at_35": False}


def test_rates_and_percentiles_come_from_the_timestamps() -> None:
    assert rate_of([10.0, 10.5, 11.0, 12.0]) == 1.5
    assert percentile([float(n) for n in range(1, 101)], 0.99) == 99.0
    assert percentile([5.0], 0.99) == 5.0


def test_a_rate_of_fewer_than_two_records_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="at least two records"):
        rate_of([1.0])


def test_latencies_pair_each_lock_s_request_with_its_answer() -> None:
    hops = latencies({"door-1": 1.0, "door-2": 2.0, "door-3": 3.0}, {"door-1": 1.010, "door-2": 2.030})
    assert hops["events"] == 3
    assert hops["answered"] == 2
    assert hops["max_ms"] == pytest.approx(30.0)


def test_each_run_keys_rooms_no_other_run_touched() -> None:
    assert slices(1, [3, 2, 0, 1]) == [range(1, 4), range(4, 6), range(6, 6), range(6, 7)]
