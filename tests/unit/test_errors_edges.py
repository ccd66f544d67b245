"""A refusal by the circuit breaker is told apart in operators' details: its vendor code says circuit_open, its
message is kept, and it says when to try again."""

from __future__ import annotations

from app.domain.errors import CircuitOpen


def test_a_circuit_open_error_keeps_its_message_code_and_wait() -> None:
    err = CircuitOpen("ttlock breaker open for t1", reopens_in=7.5)
    assert (str(err), err.vendor_code, err.cause, err.reopens_in, err.retryable) == (
        "ttlock breaker open for t1", "circuit_open", "circuit_open", 7.5, True)
