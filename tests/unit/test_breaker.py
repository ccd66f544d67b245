"""The circuit breaker state machine, driven by an explicit clock."""

from __future__ import annotations

import pytest

from app.domain.breaker import BreakerSettings, BreakerState, CircuitBreaker

SETTINGS = BreakerSettings(window_s=10, min_calls=4, failure_rate=0.5, open_s=5, probes=1)


def breaker_after(results: list[bool], start: float = 0.0) -> CircuitBreaker:
    breaker = CircuitBreaker(SETTINGS)
    for i, ok in enumerate(results):
        assert breaker.allow(start + i * 0.1)
        breaker.record(ok, start + i * 0.1)
    return breaker


@pytest.mark.parametrize(
    ("results", "state"),
    [
        ([True, True, True, True], BreakerState.CLOSED),
        ([False, False, False], BreakerState.CLOSED),  # too few calls to judge
        ([True, False, True, False], BreakerState.OPEN),  # 50 % failures
        ([True, True, True, False], BreakerState.CLOSED),  # 25 %
    ],
)
def test_breaker_opens_on_failure_rate_over_enough_calls(results: list[bool], state: BreakerState) -> None:
    assert breaker_after(results).state is state


def test_open_breaker_fails_fast_then_lets_one_probe_through_after_the_open_interval() -> None:
    breaker = breaker_after([False] * 4)
    assert not breaker.allow(1.0)
    assert breaker.allow(5.5)  # the probe
    assert not breaker.allow(5.6)  # only one probe at a time
    breaker.record(True, 5.7)
    assert breaker.state is BreakerState.CLOSED
    assert breaker.allow(5.8)


def test_a_failed_probe_opens_the_breaker_again() -> None:
    breaker = breaker_after([False] * 4)
    assert breaker.allow(6.0)
    breaker.record(False, 6.1)
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow(7.0)


def test_old_failures_leave_the_window() -> None:
    breaker = breaker_after([False, False, True])
    breaker.record(True, 20.0)  # the failures at t=0 are outside the 10 s window now
    assert breaker.state is BreakerState.CLOSED


def test_reopens_in_tells_refused_callers_when_to_come_back() -> None:
    breaker = breaker_after([False] * 4)
    assert breaker.reopens_in(2.0) == pytest.approx(5 - 2.0 + 0.3)
    assert breaker.allow(6.0)  # half-open, probe in flight
    assert breaker.reopens_in(6.0) == pytest.approx(1.25)
    breaker.record(True, 6.1)
    assert breaker.reopens_in(6.2) == 0.0
