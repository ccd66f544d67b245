"""The delayed retry's wait: full jitter under the cap, but a vendor's Retry-After is a floor that is never capped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.domain.credential import CredentialKind, Validity
from app.domain.errors import CircuitOpen, GatewayBusy, RateLimited, VendorTimeout, VendorUnavailable
from app.domain.lock_saga import CredentialRecord, CredentialStatus
from app.metrics import ABSURD_RETRY_AFTERS
from app.vendor_calls import RetrySettings, VendorCaller, effect_unknown

START = datetime(2026, 12, 1, 14, tzinfo=UTC)
RECORD = CredentialRecord(stay="t/p/R1", sequence=1, idempotency_key="k", status=CredentialStatus.ISSUING,
                          kind=CredentialKind.PASSCODE, attempts=3,
                          validity=Validity(starts_at=START, ends_at=START + timedelta(days=1)))


def test_a_retry_after_longer_than_the_cap_is_obeyed() -> None:
    caller = VendorCaller(retry=RetrySettings(delay_cap_s=3.0))
    assert all(caller._delay(RECORD, RateLimited("429", retry_after=120.0)) >= 120.0 for _ in range(50))


def test_without_retry_after_the_wait_stays_under_the_cap() -> None:
    caller = VendorCaller(retry=RetrySettings(delay_base_s=1.0, delay_cap_s=3.0))
    assert all(0 <= caller._delay(RECORD, VendorTimeout("slow")) <= 3.0 for _ in range(50))


def test_an_absurd_retry_after_is_obeyed_and_counted() -> None:
    before = ABSURD_RETRY_AFTERS._value.get()
    assert VendorCaller()._delay(RECORD, RateLimited("429", retry_after=86_400.0)) >= 86_400.0
    assert ABSURD_RETRY_AFTERS._value.get() == before + 1


def test_only_lost_answers_leave_the_effect_unknown() -> None:
    assert effect_unknown(VendorTimeout("slow"))
    assert effect_unknown(VendorUnavailable("502"))
    assert not effect_unknown(CircuitOpen("open", reopens_in=1.0))  # never sent
    assert not effect_unknown(GatewayBusy("busy"))  # refused
    assert not effect_unknown(RateLimited("429"))  # refused
