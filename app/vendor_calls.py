"""Carries out a saga's :class:`VendorCall` through the LockPort and reports a :class:`VendorOutcome`.

Retryable errors are retried with exponential backoff and full jitter (tenacity) up to a small cap; what is still
failing after that is reported as a failed outcome with its canonical cause. ``reconcile`` calls look on the lock
first (by the credential's label, which carries the idempotency key) so a replay never issues twice.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from app.domain.credential import CredentialKind, IssuedCredential, IssueRequest, LockRef
from app.domain.errors import CredentialNotFound, DuplicateCredential, LockError, RateLimited
from app.domain.lock_event import LockAction
from app.domain.lock_port import LockPort
from app.domain.lock_saga import CredentialRecord, VendorCall, VendorOutcome

T = TypeVar("T")
SecretFor = Callable[[LockRef, CredentialRecord, int], str | None]
PIN_ATTEMPTS = 3


class VendorCaller:
    def __init__(self, *, attempts: int = 4, backoff_cap_s: float = 2.0, backoff_base_s: float = 0.05) -> None:
        self._attempts = attempts
        self._cap = backoff_cap_s
        self._base = backoff_base_s

    async def carry_out(self, port: LockPort, lock: LockRef, call: VendorCall, secret_for: SecretFor) -> VendorOutcome:
        """Perform ``call`` and report what happened; never raises a :class:`LockError`."""
        record = call.record
        try:
            if call.action is LockAction.ISSUE:
                ref = await self._issue(port, lock, call, secret_for)
                return _ok(call, ref)
            if call.action is LockAction.UPDATE:
                assert record.vendor_ref is not None
                assert record.requested_validity is not None
                await self._retry(lambda: port.update_validity(lock, record.vendor_ref or "",
                                                               record.requested_validity))  # type: ignore[arg-type]
                return _ok(call, record.vendor_ref)
            await self._revoke(port, lock, call)
            return _ok(call, record.vendor_ref)
        except LockError as err:
            return failed_outcome(call, err)

    async def _issue(self, port: LockPort, lock: LockRef, call: VendorCall, secret_for: SecretFor) -> str:
        record = call.record
        if call.reconcile:
            found = await self._find(port, lock, record)
            if found is not None:
                return found.vendor_ref
        assert record.validity is not None
        for attempt in range(PIN_ATTEMPTS):
            request = IssueRequest(lock=lock, kind=record.kind, validity=record.validity, label=record.label,
                                   secret=secret_for(lock, record, attempt))
            try:
                issued = await self._retry(lambda req=request: port.issue(req))  # type: ignore[misc]
                return issued.vendor_ref
            except DuplicateCredential:
                if record.kind is not CredentialKind.PASSCODE or attempt == PIN_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    async def _revoke(self, port: LockPort, lock: LockRef, call: VendorCall) -> None:
        refs = [call.record.vendor_ref] if call.record.vendor_ref else []
        if call.reconcile or not refs:
            found = await self._find(port, lock, call.record)
            refs = [found.vendor_ref] if found is not None else []
        for ref in refs:
            with contextlib.suppress(CredentialNotFound):  # already gone: the goal of a revoke is reached
                await self._retry(lambda ref=ref: port.revoke(lock, ref))  # type: ignore[misc]

    async def _find(self, port: LockPort, lock: LockRef, record: CredentialRecord) -> IssuedCredential | None:
        listed = await self._retry(lambda: port.list_credentials(lock))
        return next((cred for cred in listed if cred.label == record.label), None)

    async def _retry(self, operation: Callable[[], Awaitable[T]]) -> T:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._attempts),
            wait=_RetryAfterOrJitter(self._base, self._cap),
            retry=retry_if_exception(lambda err: isinstance(err, LockError) and err.retryable),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await operation()
        raise AssertionError("unreachable")


class _RetryAfterOrJitter(wait_random_exponential):
    """Full-jitter exponential backoff, but never sooner than a vendor's own Retry-After."""

    def __init__(self, base: float, cap: float) -> None:
        super().__init__(multiplier=base, max=cap)
        self._cap = cap

    def __call__(self, retry_state: object) -> float:
        delay = float(super().__call__(retry_state))  # type: ignore[arg-type]
        outcome = getattr(retry_state, "outcome", None)
        err = outcome.exception() if outcome is not None else None
        if isinstance(err, RateLimited) and err.retry_after:
            return min(max(delay, err.retry_after), self._cap)
        return delay


def failed_outcome(call: VendorCall, err: LockError) -> VendorOutcome:
    """The outcome of a call that ended in ``err``; the detail names the canonical cause and the vendor's code."""
    return VendorOutcome(action=call.action, stay=call.record.stay, idempotency_key=call.record.idempotency_key,
                         ok=False, error_cause=err.cause, detail=f"{err.cause} ({err.vendor_code or '-'})")


def _ok(call: VendorCall, vendor_ref: str | None) -> VendorOutcome:
    return VendorOutcome(action=call.action, stay=call.record.stay, idempotency_key=call.record.idempotency_key,
                         ok=True, vendor_ref=vendor_ref)
