"""``lock_status``: what each lock's vendor last reported.

Keyed tenant/region/lock like ``vendor.webhooks``, so the table is co-partitioned with the stream that updates it and
all webhooks of one lock are applied in order on one partition. Values are the JSON bytes of
:class:`~app.domain.lock_status.LockCondition`; the ops API shows it in the lock view
(``tables/ops_views.py``).
"""

from __future__ import annotations

from app.domain.lock_status import LockCondition
from app.domain.wire import wire
from app.streams import app

lock_status = app.Table("lock_status", default=None, key_type=str, value_type=bytes,
                        help="Last reported condition of each lock by tenant/region/lock")


def read_lock_condition(key: str) -> LockCondition | None:
    """The lock's condition, or None before its first webhook."""
    raw: bytes | None = lock_status.get(key)
    return LockCondition.model_validate_json(raw) if raw is not None else None


def write_lock_condition(key: str, condition: LockCondition) -> None:
    """Store the lock's condition; assignment (not mutation) is what makes Faust write the changelog."""
    lock_status[key] = wire(condition)
