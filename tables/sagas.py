"""Saga state tables. Values are the JSON bytes of the domain models; keys are the partition keys of their topics.

``stays`` is keyed like ``pms.reservations`` (tenant/property/reservation); ``lock_sagas`` like ``lock.commands``
(tenant/region/lock), so each is co-partitioned with the stream that updates it and all work on one lock or one
reservation is serialised on one partition.
"""

from __future__ import annotations

from app.domain.credential import LockRef
from app.domain.lock_saga import LockSaga, new_saga
from app.domain.stay import Stay
from app.domain.wire import wire
from app.streams import app

stays = app.Table("stays", default=None, key_type=str, value_type=bytes, help="Stay state by reservation")
lock_sagas = app.Table("lock_sagas", default=None, key_type=str, value_type=bytes,
                       help="Per-lock saga state by tenant/region/lock")


def read_stay(key: str) -> Stay | None:
    raw: bytes | None = stays.get(key)
    return Stay.model_validate_json(raw) if raw is not None else None


def write_stay(key: str, stay: Stay) -> None:
    # Assignment (not mutation) is what makes Faust write the changelog.
    stays[key] = wire(stay)


def read_lock_saga(key: str, lock: LockRef) -> LockSaga:
    raw: bytes | None = lock_sagas.get(key)
    return LockSaga.model_validate_json(raw) if raw is not None else new_saga(lock)


def write_lock_saga(key: str, saga: LockSaga) -> None:
    lock_sagas[key] = wire(saga)
