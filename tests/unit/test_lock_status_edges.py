"""The lock-status step at its edges: reports at the same instant, late battery readings, what a status event
carries, redeliveries of reports that would be news again, and the shape of the event ids."""

from __future__ import annotations

import re

from app.domain.lock_event import LockEventType, event_id
from app.domain.lock_status import (
    LockCondition,
    LockStatusEvent,
    VendorEventType,
    VendorWebhook,
    step_lock_status,
)
from tests.unit.test_webhook_lock_status import S, report, webhook


def run(*hooks: VendorWebhook) -> tuple[LockCondition, list[LockStatusEvent]]:
    condition: LockCondition | None = None
    emitted: list[LockStatusEvent] = []
    for hook in hooks:
        condition, events = step_lock_status(condition, hook)
        emitted += events
    assert condition is not None
    return condition, emitted


def test_a_second_connectivity_report_at_the_same_instant_is_applied() -> None:
    condition, events = run(webhook(report(VendorEventType.LOCK_ONLINE), report(VendorEventType.LOCK_OFFLINE)))
    assert (condition.online, [e.online for e in events]) == (False, [True, False])


def test_a_second_battery_reading_at_the_same_instant_is_applied() -> None:
    condition, events = run(webhook(report(VendorEventType.BATTERY, battery_percent=50),
                                    report(VendorEventType.BATTERY, battery_percent=10)))
    assert (condition.battery_percent, [e.battery_low for e in events]) == (10, [True])


def test_a_late_battery_reading_does_not_overwrite_a_newer_one() -> None:
    condition, events = run(webhook(report(VendorEventType.BATTERY, 5, battery_percent=10), webhook_id="new"),
                            webhook(report(VendorEventType.BATTERY, 1, battery_percent=90), webhook_id="old"))
    assert (condition.battery_percent, [e.battery_low for e in events]) == (10, [True])


def test_a_low_battery_event_tells_whether_the_lock_is_online_and_its_level() -> None:
    _, events = run(webhook(report(VendorEventType.LOCK_ONLINE), report(VendorEventType.BATTERY, 1,
                                                                        battery_percent=12)))
    low = events[-1]
    assert (low.type, low.online, low.battery_percent, low.battery_low) == (S.STATUS_CHANGED, True, 12, True)


def test_a_lock_going_offline_reports_its_last_battery_level() -> None:
    _, events = run(webhook(report(VendorEventType.BATTERY, battery_percent=12),
                            report(VendorEventType.LOCK_OFFLINE, 1)))
    offline = events[-1]
    assert (offline.online, offline.battery_percent, offline.battery_low) == (False, 12, True)


def test_an_unlock_with_a_credential_not_yet_confirmed_confirms_it_and_reports_the_unlock() -> None:
    condition, events = run(webhook(report(VendorEventType.UNLOCKED, credential="lis-abc", method="passcode")))
    assert [(e.type, e.credential or e.method) for e in events] == [(S.CREDENTIAL_CONFIRMED, "lis-abc"),
                                                                    (S.UNLOCKED, "passcode")]
    assert (condition.confirmed_credentials, condition.unlocks) == (("lis-abc",), 1)


def test_a_redelivered_unlock_is_not_counted_or_reported_twice() -> None:
    hook = webhook(report(VendorEventType.UNLOCKED, method="card"))
    condition, events = run(hook, hook)
    assert (condition.unlocks, len(events), condition.seen_webhooks) == (1, 1, ("msg_1",))


def test_a_lock_remembers_the_last_64_webhooks() -> None:
    hooks = [webhook(report(VendorEventType.UNLOCKED), webhook_id=f"msg_{n}") for n in range(70)]
    condition, _ = run(*hooks)
    assert condition.seen_webhooks == tuple(f"msg_{n}" for n in range(6, 70))


def test_two_reports_of_one_kind_in_one_webhook_get_distinct_event_ids() -> None:
    _, events = run(webhook(report(VendorEventType.UNLOCKED), report(VendorEventType.UNLOCKED, 1)))
    assert len({e.event_id for e in events}) == 2


def test_status_event_ids_have_the_shape_of_every_other_event_id_on_lock_events() -> None:
    _, [event] = run(webhook(report(VendorEventType.LOCK_OFFLINE)))
    shape = re.compile(r"[0-9a-f]{32}")
    assert shape.fullmatch(event_id("k", LockEventType.KEY_ISSUED))
    assert shape.fullmatch(event.event_id)
