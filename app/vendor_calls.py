"""Carries out a saga's :class:`VendorCall` through the LockPort and reports a :class:`VendorOutcome`.

A call gets a few quick in-place attempts (tenacity, exponential backoff with full jitter, milliseconds) to ride out
a busy gateway; what still fails with a retryable error is reported as retryable with a delay (full jitter, capped,
never below a vendor's Retry-After, however long), and the saga schedules it without blocking the lock's partition.
A circuit breaker per tenant and vendor makes calls fail fast while the vendor is down.

Label first: a call whose effect is unknown (a timeout, a reset, a 5xx: the vendor may have acted and lost the
answer) is never simply repeated. The quick retry of an issue looks on the lock by the credential's label (it carries
the idempotency key) and adopts what landed; a clashing PIN is checked against the label before another is chosen;
``reconcile`` calls (replays, delayed retries) look first too; a revoke removes every credential carrying the label
and settles only when the lock's listing shows none.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from app.domain.breaker import BreakerSettings, BreakerState, CircuitBreaker
from app.domain.credential import CredentialKind, IssuedCredential, IssueRequest, LockRef, Validity
from app.domain.errors import (
    CircuitOpen,
    CredentialNotFound,
    DuplicateCredential,
    GatewayOffline,
    LockError,
    RateLimited,
    VendorTimeout,
    VendorUnavailable,
)
from app.domain.lock_event import LockAction
from app.domain.lock_port import LockPort
from app.domain.lock_saga import CredentialRecord, VendorCall, VendorOutcome
from app.domain.offline_fallback import offline_window
from app.metrics import ABSURD_RETRY_AFTERS, BREAKER_OPEN, VENDOR_CALL_SECONDS, VENDOR_CALLS

T = TypeVar("T")


class Material(Protocol):
    """The secret part of each issue attempt, a hold on a card number before its window moves, and the sealing of
    a passcode's digits for the stay."""

    async def secret(self, lock: LockRef, record: CredentialRecord, attempt: int) -> str | None: ...

    async def hold(self, lock: LockRef, record: CredentialRecord, validity: Validity) -> None: ...

    def seal_code(self, lock: LockRef, record: CredentialRecord, code: str) -> str: ...


PIN_ATTEMPTS = 3
REVOKE_ROUNDS = 3  # revoke what the listing still shows under the label, at most this many times per call
ABSURD_RETRY_AFTER_S = 3600.0  # a vendor asking to wait longer than this is obeyed, and alerted on
log = logging.getLogger(__name__)


def effect_unknown(err: LockError) -> bool:
    """Whether the vendor may have acted although the call failed: its answer was lost or garbled on the way."""
    return isinstance(err, VendorTimeout | VendorUnavailable) and not isinstance(err, CircuitOpen | GatewayOffline)


@dataclass
class RetrySettings:
    quick_attempts: int = 2
    quick_base_s: float = 0.05
    quick_cap_s: float = 0.5
    delay_base_s: float = 1.0
    delay_cap_s: float = 60.0


@dataclass
class VendorCaller:
    retry: RetrySettings = field(default_factory=RetrySettings)
    breaker: BreakerSettings = field(default_factory=BreakerSettings)
    clock: Callable[[], float] = time.monotonic
    breakers: dict[tuple[str, str], CircuitBreaker] = field(default_factory=dict)

    async def carry_out(self, port: LockPort, lock: LockRef, call: VendorCall, material: Material) -> VendorOutcome:
        """Perform ``call`` and report what happened; never raises a :class:`LockError`."""
        record, started = call.record, self.clock()
        ref: str | None
        issued: IssuedCredential | None = None
        digits: str | None = None  # a passcode's digits as they landed, when known
        offline_capable = port.capabilities.offline_passcodes
        try:
            if call.action is LockAction.ISSUE:
                issued, digits = await (self._issue_offline if call.offline else self._issue)(port, lock, call,
                                                                                            material)
                ref = issued.vendor_ref
            elif call.action is LockAction.UPDATE:
                vendor_ref, validity = record.vendor_ref, record.requested_validity
                assert vendor_ref is not None
                assert validity is not None
                await material.hold(lock, record, validity)
                await self._guarded(lock, lambda: port.update_validity(lock, vendor_ref, validity))
                ref = vendor_ref
            else:
                ref = record.vendor_ref
                await self._revoke(port, lock, call)
        except LockError as err:
            self._count(lock, call, err.cause, started)
            return failed_outcome(call, err, self._delay(record, err), offline_capable=offline_capable)
        self._count(lock, call, "offline_code" if call.offline else "ok", started)
        code = issued.code if issued is not None else None  # only an offline passcode's digits come back
        # A guest's PIN only: a card number or mobile account is no code to hand over, and a master-key shift's staff
        # code opens every door of the property, so no front-desk view may read it.
        pin = digits if record.kind is CredentialKind.PASSCODE and not record.stay.startswith("master:") else None
        return VendorOutcome(action=call.action, stay=record.stay, idempotency_key=record.idempotency_key,
                             ok=True, vendor_ref=ref, offline_capable=offline_capable, offline=code is not None,
                             validity=issued.validity if code is not None and issued is not None else None,
                             sealed_code=material.seal_code(lock, record, pin) if pin is not None else None)

    def _count(self, lock: LockRef, call: VendorCall, outcome: str, started: float) -> None:
        VENDOR_CALLS.labels(lock.vendor, lock.region, call.action, outcome).inc()
        VENDOR_CALL_SECONDS.labels(lock.vendor, lock.region, call.action).observe(self.clock() - started)

    async def listing(self, port: LockPort, lock: LockRef) -> list[IssuedCredential]:
        """What the lock holds, asked through the tenant's breaker with the quick retries."""
        return await self._guarded(lock, lambda: port.list_credentials(lock))

    async def remove(self, port: LockPort, lock: LockRef, vendor_ref: str) -> None:
        """Revoke one credential no saga owns (anti-entropy); gone already counts as done."""
        with contextlib.suppress(CredentialNotFound):
            await self._guarded(lock, lambda: port.revoke(lock, vendor_ref))

    def refuses(self, lock: LockRef) -> CircuitOpen | None:
        """The refusal a call on this lock would get right now from an open breaker, without making it (so the
        saga neither records an intent nor spends an attempt on it)."""
        breaker = self.breakers.get((lock.tenant, lock.vendor))
        if breaker is None or breaker.state is BreakerState.CLOSED:
            return None
        wait = breaker.reopens_in(self.clock())
        if breaker.state is BreakerState.OPEN and wait > 0:
            return CircuitOpen(f"circuit open for {lock.tenant}/{lock.vendor}", reopens_in=wait)
        return None

    def refused_outcome(self, call: VendorCall, refusal: CircuitOpen) -> VendorOutcome:
        return failed_outcome(call, refusal, self._delay(call.record, refusal))

    def breaker_states(self) -> dict[str, str]:
        """Each tenant/vendor breaker's state, for the ops view."""
        return {f"{tenant}/{vendor}": breaker.state.value for (tenant, vendor), breaker in self.breakers.items()}

    async def _issue(self, port: LockPort, lock: LockRef, call: VendorCall, material: Material
                     ) -> tuple[IssuedCredential, str | None]:
        """The credential on the lock and the secret it was issued with; None for a credential adopted by its
        label before any attempt (an earlier step's, whose answer was lost: which attempt's PIN landed is not
        known here)."""
        record = call.record
        assert record.validity is not None
        validity = record.validity
        if call.reconcile and (adopted := await self._adopt(port, lock, record)) is not None:
            return adopted, None
        for attempt in range(PIN_ATTEMPTS):
            request = IssueRequest(lock=lock, kind=record.kind, validity=validity, label=record.label,
                                   secret=await material.secret(lock, record, attempt))
            try:
                landed = await self._guarded(lock, lambda req=request: port.issue(req),  # type: ignore[misc]
                                             look_first=lambda: self._adopt(port, lock, record))
            except DuplicateCredential:
                # The clash may be our own earlier attempt that landed: only a stranger's PIN or card number gets
                # another (a mobile key's account is the guest's own).
                if (adopted := await self._adopt(port, lock, record)) is not None:
                    return adopted, None
                if record.kind is CredentialKind.MOBILE_KEY or attempt == PIN_ATTEMPTS - 1:
                    raise
            else:
                return landed, request.secret  # found by look_first, it is this request's: the same secret
        raise AssertionError("unreachable")

    async def _issue_offline(self, port: LockPort, lock: LockRef, call: VendorCall, material: Material
                             ) -> tuple[IssuedCredential, str | None]:
        """An offline passcode for the record's stay, unless one carrying its label is there already (an answer
        lost on the way): its window is the stay's, widened to whole hours (``offline_window``)."""
        record = call.record
        assert record.validity is not None
        if (adopted := await self._adopt(port, lock, record)) is not None:
            return adopted, adopted.code
        window = offline_window(record.validity, datetime.now(UTC))
        request = IssueRequest(lock=lock, kind=record.kind, validity=window, label=record.label)
        try:
            issued = await self._guarded(lock, lambda: port.issue_offline(request),
                                         look_first=lambda: self._adopt(port, lock, record))
        except GatewayOffline as err:  # no gateway is involved in an offline code: never ask for one again at once
            raise VendorUnavailable(str(err), vendor_code=err.vendor_code) from err
        return issued, issued.code

    async def _adopt(self, port: LockPort, lock: LockRef, record: CredentialRecord) -> IssuedCredential | None:
        """The credential already on the lock under the record's label, its validity brought in line where the
        vendor can change it remotely; None when there is none (or the vendor cannot list)."""
        if not port.capabilities.lists_credentials:
            return None
        found = await self._labelled(port, lock, record)
        if not found:
            return None
        validity = record.validity
        if found[0].validity not in (None, validity) and port.capabilities.remote_update and validity is not None:
            await self._guarded(lock, lambda: port.update_validity(lock, found[0].vendor_ref, validity))
        return found[0]

    async def _revoke(self, port: LockPort, lock: LockRef, call: VendorCall) -> None:
        """Remove every credential carrying the record's label; done only once the lock's listing shows none
        (a vendor that cannot list gets the known ref revoked and nothing more can be checked)."""
        refs = {call.record.vendor_ref} if call.record.vendor_ref else set()
        lists = port.capabilities.lists_credentials
        if lists and (call.reconcile or not refs):
            refs |= {cred.vendor_ref for cred in await self._labelled(port, lock, call.record)}
        for _ in range(REVOKE_ROUNDS):
            for ref in sorted(refs):  # already gone counts: the goal of a revoke is reached
                await self.remove(port, lock, ref)
            if not lists:
                return
            refs = {cred.vendor_ref for cred in await self._labelled(port, lock, call.record)}
            if not refs:
                return
        raise VendorUnavailable(f"{len(refs)} credentials labelled {call.record.label} still on {lock.lock_id}",
                                vendor_code="still_listed")

    async def _labelled(self, port: LockPort, lock: LockRef, record: CredentialRecord) -> list[IssuedCredential]:
        return [cred for cred in await self.listing(port, lock) if cred.label == record.label]

    async def _guarded(self, lock: LockRef, operation: Callable[[], Awaitable[T]],
                       look_first: Callable[[], Awaitable[T | None]] | None = None) -> T:
        """A few quick attempts of ``operation``, each allowed by and reported to the tenant's vendor breaker.
        After an attempt whose effect is unknown, ``look_first`` (when given) is asked before the next one, and what
        it finds is returned instead of repeating the call. A rate limit is not retried here: its
        Retry-After belongs to the delayed retry."""
        breaker = self.breakers.setdefault((lock.tenant, lock.vendor), CircuitBreaker(self.breaker))
        unknown = False

        async def attempt() -> T:
            nonlocal unknown
            if unknown and look_first is not None and (found := await look_first()) is not None:
                return found
            if not breaker.allow(self.clock()):
                raise CircuitOpen(f"circuit open for {lock.tenant}/{lock.vendor}",
                                  reopens_in=breaker.reopens_in(self.clock()))
            answered = False
            try:
                result = await operation()
                answered = True
            except LockError as err:
                # A refusal is an answer, and so are a rate limit (Retry-After paces us instead) and a gateway out
                # of reach (one hotel's gateway says nothing about the vendor): the vendor is up.
                answered = not err.retryable or isinstance(err, RateLimited | GatewayOffline)
                unknown = unknown or effect_unknown(err)
                raise
            finally:
                # Always recorded (even on cancellation), or a half-open breaker would wait for its probe forever.
                self._record(breaker, lock, answered)
            return result

        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.retry.quick_attempts),
            wait=wait_random_exponential(multiplier=self.retry.quick_base_s, max=self.retry.quick_cap_s),
            retry=retry_if_exception(lambda err: isinstance(err, LockError) and err.retryable
                                     and not isinstance(err, CircuitOpen | RateLimited)),
            reraise=True,
        )
        async for trial in retrying:
            with trial:
                return await attempt()
        raise AssertionError("unreachable")

    def _record(self, breaker: CircuitBreaker, lock: LockRef, ok: bool) -> None:
        breaker.record(ok, self.clock())
        BREAKER_OPEN.labels(lock.tenant, lock.vendor).set(breaker.state is not BreakerState.CLOSED)

    def _delay(self, record: CredentialRecord, err: LockError) -> float:
        """Full jitter: uniform in [0, min(cap, base·2^attempts)], but never before a vendor's Retry-After nor
        before the breaker lets calls through again (spread, so they do not all arrive with the probe)."""
        if isinstance(err, CircuitOpen):
            return err.reopens_in + random.uniform(0, self.retry.delay_base_s * 4)
        ceiling = min(self.retry.delay_cap_s, self.retry.delay_base_s * 2 ** record.attempts)
        delay = random.uniform(0, ceiling)
        if isinstance(err, RateLimited) and err.retry_after:
            if err.retry_after > ABSURD_RETRY_AFTER_S:
                ABSURD_RETRY_AFTERS.inc()
                log.error("vendor asked to wait %.0f s before retrying (%s): obeyed", err.retry_after, err)
            delay = max(delay, err.retry_after)  # a floor, never capped: the vendor said when
        return delay


def failed_outcome(call: VendorCall, err: LockError, retry_delay_s: float = 0.0, *,
                   offline_capable: bool = False) -> VendorOutcome:
    """The outcome of a call that ended in ``err``; the detail names the canonical cause and the vendor's code."""
    return VendorOutcome(action=call.action, stay=call.record.stay, idempotency_key=call.record.idempotency_key,
                         ok=False, error_cause=err.cause, detail=f"{err.cause} ({err.vendor_code or '-'})",
                         retryable=err.retryable, retry_delay_s=retry_delay_s,
                         spent_attempt=not isinstance(err, CircuitOpen),
                         unreachable=isinstance(err, VendorUnavailable) and not isinstance(err, CircuitOpen),
                         gateway_offline=isinstance(err, GatewayOffline), offline_capable=offline_capable)
