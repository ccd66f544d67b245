"""The pure step that applies verified vendor webhooks to a lock's condition, from tables of cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.lock_status import (
    LockCondition,
    LockStatusEventType,
    VendorEvent,
    VendorEventType,
    VendorWebhook,
    step_lock_status,
)

T0 = datetime(2026, 12, 1, 10, tzinfo=UTC)
S = LockStatusEventType


def report(kind: VendorEventType, minute: int = 0, **fields: object) -> VendorEvent:
    return VendorEvent.model_validate({"type": kind, "vendor_type": str(fields.pop("vendor_type", kind)),
                                       "occurred_at": T0 + timedelta(minutes=minute), **fields})


def webhook(*events: VendorEvent, webhook_id: str = "msg_1") -> VendorWebhook:
    return VendorWebhook(webhook_id=webhook_id, vendor="salto", tenant="t1", region="eu-west", property="p1",
                         lock_id="door-101", vendor_lock_id="70001", received_at=T0, events=events)


def apply(*hooks: VendorWebhook) -> tuple[LockCondition, list[tuple[S, object]]]:
    condition: LockCondition | None = None
    seen: list[tuple[S, object]] = []
    for hook in hooks:
        condition, events = step_lock_status(condition, hook)
        seen += [(e.type, e.online if e.type is S.STATUS_CHANGED else e.credential or e.method) for e in events]
    assert condition is not None
    return condition, seen


@pytest.mark.parametrize(
    ("reports", "expected_events", "online"),
    [
        ([report(VendorEventType.LOCK_OFFLINE)], [(S.STATUS_CHANGED, False)], False),
        ([report(VendorEventType.LOCK_OFFLINE), report(VendorEventType.LOCK_OFFLINE, 1)],
         [(S.STATUS_CHANGED, False)], False),
        ([report(VendorEventType.LOCK_OFFLINE), report(VendorEventType.LOCK_ONLINE, 5)],
         [(S.STATUS_CHANGED, False), (S.STATUS_CHANGED, True)], True),
        # A late offline report (older than the online one applied) must not flip the lock back.
        ([report(VendorEventType.LOCK_ONLINE, 5), report(VendorEventType.LOCK_OFFLINE, 1)],
         [(S.STATUS_CHANGED, True)], True),
    ],
    ids=["goes-offline", "repeated-offline-is-no-news", "back-online", "late-offline-ignored"],
)
def test_connectivity_reports_change_the_status_once_and_in_time_order(
    reports: list[VendorEvent], expected_events: list[tuple[S, object]], online: bool
) -> None:
    condition, events = apply(*(webhook(r, webhook_id=f"m{n}") for n, r in enumerate(reports)))
    assert events == expected_events
    assert condition.online is online


@pytest.mark.parametrize(
    ("levels", "changes"),
    [
        ([90, 60, 40], 0),
        ([90, 15], 1),
        ([15], 1),
        ([15, 10, 5], 1),
        ([15, 95], 2),
    ],
    ids=["healthy", "drops-below-threshold", "first-reading-low", "stays-low", "batteries-changed"],
)
def test_battery_readings_emit_a_status_change_only_when_crossing_the_low_threshold(levels: list[int],
                                                                                     changes: int) -> None:
    hooks = [webhook(report(VendorEventType.BATTERY, n, battery_percent=level), webhook_id=f"b{n}")
             for n, level in enumerate(levels)]
    condition, events = apply(*hooks)
    assert len(events) == changes
    assert condition.battery_percent == levels[-1]
    assert condition.battery_low is (levels[-1] < 20)


def test_a_credential_applied_is_confirmed_once_whatever_reports_it_again() -> None:
    applied = report(VendorEventType.CREDENTIAL_APPLIED, credential="lis-abc")
    used = report(VendorEventType.UNLOCKED, 3, credential="lis-abc", method="passcode")
    condition, events = apply(webhook(applied, webhook_id="a"), webhook(used, webhook_id="b"))
    assert events == [(S.CREDENTIAL_CONFIRMED, "lis-abc"), (S.UNLOCKED, "passcode")]
    assert condition.confirmed_credentials == ("lis-abc",)
    assert condition.unlocks == 1


def test_a_failed_unlock_is_reported_but_confirms_nothing() -> None:
    denied = report(VendorEventType.UNLOCKED, credential="lis-old", method="passcode", success=False)
    condition, events = apply(webhook(denied))
    assert events == [(S.UNLOCK_FAILED, "passcode")]
    assert condition.confirmed_credentials == ()
    assert condition.unlocks == 0


def test_an_unknown_report_is_recorded_not_crashed_on() -> None:
    odd = report(VendorEventType.UNKNOWN, vendor_type="ttlock.recordType.44")
    condition, events = apply(webhook(odd, webhook_id="x"), webhook(odd, webhook_id="y"))
    assert events == []
    assert condition.unrecognised == {"ttlock.recordType.44": 2}


def test_a_redelivered_webhook_changes_nothing_and_emits_nothing() -> None:
    hook = webhook(report(VendorEventType.LOCK_OFFLINE), report(VendorEventType.BATTERY, battery_percent=5))
    first, events = step_lock_status(None, hook)
    again, more = step_lock_status(first, hook)
    assert len(events) == 2
    assert more == []
    assert again == first


def test_event_ids_are_stable_across_redelivery_and_distinct_per_report() -> None:
    hook = webhook(report(VendorEventType.LOCK_OFFLINE), report(VendorEventType.CREDENTIAL_APPLIED, credential="c"))
    _, first = step_lock_status(None, hook)
    _, replayed = step_lock_status(None, hook)  # e.g. after a crash before the condition was written
    assert [e.event_id for e in first] == [e.event_id for e in replayed]
    assert len({e.event_id for e in first}) == 2
    assert all(e.source_webhook_id == "msg_1" and e.lock_id == "door-101" for e in first)
