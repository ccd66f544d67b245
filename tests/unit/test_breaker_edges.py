"""The circuit breaker at its edges: the open interval ends on the second, several probes in half-open state, a
window that slides with real clock values, and the wait a refused caller is told."""

from __future__ import annotations

from app.domain.breaker import BreakerSettings, BreakerState, CircuitBreaker

T0 = 10_000.0  # a monotonic clock well past its start


def opened(settings: BreakerSettings) -> CircuitBreaker:
    breaker = CircuitBreaker(settings)
    for _ in range(settings.min_calls):
        breaker.record(False, T0)
    assert breaker.state is BreakerState.OPEN
    return breaker


def test_the_breaker_half_opens_exactly_when_the_open_interval_ends() -> None:
    breaker = opened(BreakerSettings(min_calls=2, open_s=15))
    assert breaker.allow(T0 + 15)
    assert breaker.state is BreakerState.HALF_OPEN


def test_half_open_lets_exactly_as_many_probes_through_as_configured() -> None:
    breaker = opened(BreakerSettings(min_calls=2, open_s=15, probes=2))
    assert [breaker.allow(T0 + 15) for _ in range(3)] == [True, True, False]


def test_failures_within_the_window_open_the_breaker_late_in_the_clocks_life() -> None:
    breaker = CircuitBreaker(BreakerSettings(min_calls=3, window_s=30))
    for second in range(3):
        breaker.record(False, T0 + second)
    assert breaker.state is BreakerState.OPEN


def test_a_call_exactly_one_window_old_still_counts() -> None:
    breaker = CircuitBreaker(BreakerSettings(min_calls=2, window_s=30))
    breaker.record(False, T0)
    breaker.record(False, T0 + 30)
    assert breaker.state is BreakerState.OPEN


def test_a_refused_caller_is_told_the_rest_of_the_open_interval_to_the_fraction_of_a_second() -> None:
    breaker = opened(BreakerSettings(min_calls=2, open_s=15))
    assert breaker.reopens_in(T0 + 14.5) == 0.5
    assert breaker.reopens_in(T0 + 20) == 0.0
