"""The offline-passcode fallback: the whole-hour window, when the saga stops waiting for a gateway, and the saga's
path from a gateway offline to an offline code — or, for a vendor without them, to saying why the key is late."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.credential import CredentialKind, LockRef, OfflineFallback, Validity
from app.domain.lock_event import LockAction, LockEvent, LockEventType
from app.domain.lock_saga import CredentialStatus, LockSaga, VendorCall, VendorOutcome, new_saga, step_lock_saga
from app.domain.offline_fallback import fallback_due, offline_window
from tests.builders import command, lock

POLICY = OfflineFallback(after_minutes=15, arrival_within_minutes=60)
ARRIVES = datetime(2026, 12, 5, 14, 20, tzinfo=UTC)
STAY = Validity(starts_at=ARRIVES, ends_at=ARRIVES + timedelta(days=2, hours=-3, minutes=-10))  # ends 11:10


def at(hour: int, minute: int = 0, day: int = 5) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(("validity", "now", "window"), [
    (STAY, at(9), (at(14), at(12, day=7))),  # widened to whole hours on both sides
    (Validity(starts_at=at(15), ends_at=at(11, day=7)), at(9), (at(15), at(11, day=7))),  # whole hours stay
    (STAY, at(18, 40), (at(18), at(12, day=7))),  # a stay under way: from the current hour
    (Validity(starts_at=at(10, 5), ends_at=at(10, 20)), at(9), (at(10), at(11))),  # at least an hour
])
def test_an_offline_window_is_whole_hours_widened_never_shortened(validity: Validity, now: datetime,
                                                                  window: tuple[datetime, datetime]) -> None:
    got = offline_window(validity, now)
    assert (got.starts_at, got.ends_at) == window
    assert got.ends_at >= validity.ends_at
    assert got.ends_at - validity.ends_at < timedelta(hours=1)
    assert max(validity.starts_at, now) - got.starts_at < timedelta(hours=1)


def test_an_offline_window_is_in_whole_utc_hours_for_a_half_hour_zone() -> None:
    india = Validity.model_validate({"starts_at": "2026-12-05T14:00:00+05:30", "ends_at": "2026-12-07T11:00:00+05:30"})
    got = offline_window(india, at(0))
    assert (got.starts_at, got.ends_at) == (at(8), at(6, day=7))  # 08:30 and 05:30 UTC, widened


@pytest.mark.parametrize(("policy", "kind", "since", "now", "due"), [
    (None, CredentialKind.PASSCODE, at(9), at(12), False),  # the property has no fallback
    (POLICY, CredentialKind.CARD, at(9), at(12), False),  # only passcodes have an offline form
    (POLICY, CredentialKind.PASSCODE, at(9), at(9, 10), False),  # offline 10 min, arrival hours away: wait
    (POLICY, CredentialKind.PASSCODE, at(9), at(9, 15), True),  # offline 15 min: stop waiting
    (POLICY, CredentialKind.PASSCODE, at(13, 20), at(13, 20), True),  # the guest arrives within the hour
    (POLICY, CredentialKind.PASSCODE, at(20), at(20), True),  # the guest has arrived already
])
def test_the_fallback_is_due_after_its_patience_or_when_the_guest_arrives_soon(
    policy: OfflineFallback | None, kind: CredentialKind, since: datetime, now: datetime, due: bool,
) -> None:
    assert fallback_due(policy, kind, STAY, since, now) is due


def fallback_lock() -> LockRef:
    return lock().model_copy(update={"offline_fallback": POLICY})


def offline(saga: LockSaga, call: VendorCall, *, capable: bool = True, gateway: bool = True) -> VendorOutcome:
    return VendorOutcome(action=call.action, stay=call.record.stay, idempotency_key=call.record.idempotency_key,
                         ok=False, error_cause="gateway_offline" if gateway else "vendor_unavailable",
                         detail="gateway_offline (-3002)" if gateway else "vendor_unavailable (http_503)",
                         retryable=True, retry_delay_s=5, unreachable=True, gateway_offline=gateway,
                         offline_capable=capable)


def issue_far_ahead(now: datetime) -> tuple[LockSaga, VendorCall]:
    cmd = command(LockAction.ISSUE, target=fallback_lock())
    cmd = cmd.model_copy(update={"validity": Validity(starts_at=now + timedelta(days=2),
                                                      ends_at=now + timedelta(days=4))})
    saga, (call,) = step_lock_saga(new_saga(cmd.lock), cmd, now)
    assert isinstance(call, VendorCall)
    return saga, call


def test_a_gateway_offline_is_waited_for_until_the_fallback_is_due_then_an_offline_code_is_asked_for() -> None:
    saga, call = issue_far_ahead(at(9))
    saga, outputs = step_lock_saga(saga, offline(saga, call), at(9))
    record = saga.credentials[call.record.stay]
    assert (outputs, record.unreachable_since, record.attempts) == ([], at(9), 0), "waiting costs no attempt"
    assert record.retry_at is not None
    assert record.last_error == "gateway_offline (-3002)", "the reason is on the record for the ops views"
    saga, outputs = step_lock_saga(saga, offline(saga, call), at(9, 16))
    assert outputs == [VendorCall(action=LockAction.ISSUE, record=saga.credentials[call.record.stay],
                                  reconcile=True, offline=True)]
    window = offline_window(call.record.validity, at(9, 16))  # type: ignore[arg-type]
    done = VendorOutcome(action=LockAction.ISSUE, stay=call.record.stay, idempotency_key=call.record.idempotency_key,
                         ok=True, vendor_ref="passcode:9", offline=True, validity=window, sealed_code="ab12")
    saga, outputs = step_lock_saga(saga, done, at(9, 16))
    record = saga.credentials[call.record.stay]
    (event,) = outputs
    assert isinstance(event, LockEvent)
    assert (event.type, event.offline, event.validity, event.sealed_code) == (LockEventType.KEY_ISSUED, True, window,
                                                                              "ab12")
    assert (record.status, record.offline, record.validity, record.unreachable_since, record.last_error) == (
        CredentialStatus.ISSUED, True, window, None, None)


def test_a_gateway_back_before_the_fallback_fires_gives_the_normal_credential_and_no_offline_code() -> None:
    saga, call = issue_far_ahead(at(9))
    saga, _ = step_lock_saga(saga, offline(saga, call), at(9))
    landed = VendorOutcome(action=LockAction.ISSUE, stay=call.record.stay,
                           idempotency_key=call.record.idempotency_key, ok=True, vendor_ref="passcode:1")
    saga, outputs = step_lock_saga(saga, landed, at(9, 5))
    record = saga.credentials[call.record.stay]
    assert [o.type for o in outputs if isinstance(o, LockEvent)] == [LockEventType.KEY_ISSUED]
    assert not any(isinstance(o, VendorCall) for o in outputs)
    assert (record.offline, record.validity, record.unreachable_since) == (False, call.record.validity, None)


def test_a_vendor_without_offline_codes_keeps_retrying_and_says_once_why_the_key_is_late() -> None:
    saga, call = issue_far_ahead(at(9))
    saga, _ = step_lock_saga(saga, offline(saga, call, capable=False, gateway=False), at(9))
    saga, outputs = step_lock_saga(saga, offline(saga, call, capable=False, gateway=False), at(9, 20))
    (delayed,) = outputs
    assert isinstance(delayed, LockEvent)
    assert delayed.type is LockEventType.KEY_ISSUE_DELAYED
    assert "no offline passcodes" in (delayed.detail or "")
    record = saga.credentials[call.record.stay]
    assert (record.status, record.retry_at is not None, record.delay_noted) == (CredentialStatus.ISSUING, True, True)
    saga, outputs = step_lock_saga(saga, offline(saga, call, capable=False, gateway=False), at(9, 40))
    assert outputs == [], "said once; no code is invented"


def test_a_master_key_never_falls_back_to_an_offline_code() -> None:
    cmd = command(LockAction.ISSUE, stay="master:shift-1", target=fallback_lock())
    saga, (call,) = step_lock_saga(new_saga(cmd.lock), cmd, at(9))
    assert isinstance(call, VendorCall)
    assert call.record.fallback is None
    saga, outputs = step_lock_saga(saga, offline(saga, call), at(20))
    assert not any(isinstance(o, VendorCall) for o in outputs)


def test_revoking_an_offline_code_while_the_gateway_is_down_stays_pending_with_the_reason() -> None:
    saga, call = issue_far_ahead(at(9))
    saga, (offline_call,) = step_lock_saga(saga, offline(saga, call), at(20, day=7))  # arrival long past: at once
    assert isinstance(offline_call, VendorCall)
    assert offline_call.offline
    done = VendorOutcome(action=LockAction.ISSUE, stay=call.record.stay, idempotency_key=call.record.idempotency_key,
                         ok=True, vendor_ref="passcode:9", offline=True, validity=call.record.validity)
    saga, _ = step_lock_saga(saga, done, at(20, day=7))
    saga, (revoke,) = step_lock_saga(saga, command(LockAction.REVOKE, sequence=2, target=fallback_lock()),
                                     at(21, day=7))
    assert isinstance(revoke, VendorCall)
    for minutes in range(0, 600, 60):
        saga, outputs = step_lock_saga(saga, offline(saga, revoke), at(21, day=7) + timedelta(minutes=minutes))
        assert not any(isinstance(o, LockEvent) and o.type is LockEventType.KEY_REVOKED for o in outputs)
    record = saga.credentials[call.record.stay]
    assert (record.status, record.last_error) == (CredentialStatus.REVOKING, "gateway_offline (-3002)")
    assert record.retry_at is not None, "a revoke is never given up: it waits for the gateway"
