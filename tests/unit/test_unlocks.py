"""Unlock records matched to the stays whose codes were typed (app/domain/unlocks.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.domain.unlocks import AttributedUnlock, CodeOwner, LockUnlock, attribute_unlocks

AT = datetime(2026, 12, 3, 12, tzinfo=UTC)


def test_each_attempt_is_matched_to_the_stay_owning_the_code_oldest_first_and_the_code_is_dropped() -> None:
    owners = {"4711": CodeOwner(stay="t1/p1/R1", offline=True), "1234": CodeOwner(stay="t1/p1/R2", offline=False)}
    unlocks = [LockUnlock(at=AT + timedelta(minutes=2), code="1234", opened=True),
               LockUnlock(at=AT, code="4711", opened=True),
               LockUnlock(at=AT + timedelta(minutes=1), code="0000", opened=False),
               LockUnlock(at=AT + timedelta(minutes=3), code=None, opened=False)]
    assert attribute_unlocks(unlocks, owners) == [
        AttributedUnlock(at=AT, opened=True, stay="t1/p1/R1", offline=True),
        AttributedUnlock(at=AT + timedelta(minutes=1), opened=False, stay=None, offline=False),
        AttributedUnlock(at=AT + timedelta(minutes=2), opened=True, stay="t1/p1/R2", offline=False),
        AttributedUnlock(at=AT + timedelta(minutes=3), opened=False, stay=None, offline=False)]
    assert "code" not in AttributedUnlock.model_fields
