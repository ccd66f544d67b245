"""The dev day's summary explains its latency when a burst of PMS events outruns the worker."""

from __future__ import annotations

from app.devstack.day import burst_note


def test_the_dev_summary_explains_latency_when_a_burst_outruns_the_worker() -> None:
    burst = [0.0 + i * 0.01 for i in range(50)]  # 50 events in half a second
    outcomes = [float(i) * 0.1 for i in range(100)]  # 10 outcomes/s
    note = burst_note(burst, outcomes, latencies=[0.5] * 90 + [4.0] * 10)
    assert note is not None
    assert "50 PMS events arrived in the busiest second" in note
    assert "10 lock outcomes/s" in note
    assert burst_note([float(i) for i in range(20)], outcomes, latencies=[0.2] * 20) is None, "no burst: no note"
