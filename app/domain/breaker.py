"""A circuit breaker over a failure rate in a sliding time window, with an open interval and half-open probes.

One breaker guards one (tenant, vendor): when too many recent calls failed, calls fail fast for ``open_s`` seconds
instead of hammering a vendor that is down, then ``probes`` trial calls decide whether it closes again. Time is
passed in, so the state machine is tested without sleeping. (The maintained Python breakers count consecutive
failures only; a failure *rate* over a window is what the readiness scorecard asks for, so it lives here.)
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass
class BreakerSettings:
    window_s: float = 30.0
    min_calls: int = 10
    failure_rate: float = 0.5
    open_s: float = 15.0
    probes: int = 1


@dataclass
class CircuitBreaker:
    settings: BreakerSettings = field(default_factory=BreakerSettings)
    state: BreakerState = BreakerState.CLOSED
    opened_at: float = 0.0
    _calls: deque[tuple[float, bool]] = field(default_factory=deque)
    _probes_in_flight: int = 0

    def allow(self, now: float) -> bool:
        """May a call go to the vendor now? In half-open state only ``probes`` calls at a time may."""
        if self.state is BreakerState.OPEN and now - self.opened_at >= self.settings.open_s:
            self.state, self._probes_in_flight = BreakerState.HALF_OPEN, 0
        if self.state is BreakerState.OPEN:
            return False
        if self.state is BreakerState.HALF_OPEN:
            if self._probes_in_flight >= self.settings.probes:
                return False
            self._probes_in_flight += 1
        return True

    def reopens_in(self, now: float) -> float:
        """Seconds until a refused call is worth trying again: the rest of the open interval, or while a probe is
        deciding, a fraction of it."""
        if self.state is BreakerState.OPEN:
            return max(0.0, self.opened_at + self.settings.open_s - now)
        if self.state is BreakerState.HALF_OPEN:
            return self.settings.open_s / 4
        return 0.0

    def record(self, ok: bool, now: float) -> None:
        """Record a call's result: a vendor answer (even a refusal) is ``ok``; no answer, 5xx or 429 is not."""
        if self.state is BreakerState.HALF_OPEN:
            if ok:
                self.state = BreakerState.CLOSED
                self._calls.clear()
            else:
                self._open(now)
            return
        self._calls.append((now, ok))
        while self._calls and self._calls[0][0] < now - self.settings.window_s:
            self._calls.popleft()
        failures = sum(1 for _, good in self._calls if not good)
        if len(self._calls) >= self.settings.min_calls and failures / len(self._calls) >= self.settings.failure_rate:
            self._open(now)

    def _open(self, now: float) -> None:
        self.state, self.opened_at = BreakerState.OPEN, now
        self._calls.clear()
