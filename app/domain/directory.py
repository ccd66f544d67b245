"""The lock directory: which locks serve which rooms and common areas of a property."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from pydantic import Field, model_validator

from app.domain.credential import Frozen, LockRef, OfflineFallback, VendorName
from app.domain.stay_times import PropertyTimes


class DirectoryLock(Frozen):
    lock_id: str
    vendor: VendorName
    vendor_lock_id: str
    gateway_id: str | None = None
    room: str | None = None
    area: str | None = None
    guest_access: bool = False
    # A test lock the synthetic vendor checks (lis synthetics) issue and revoke a canary credential on: no room, no
    # guest access, so no stay ever gets a key to it, and the checks touch no other lock.
    synthetic: bool = False

    @model_validator(mode="after")
    def _a_synthetic_lock_serves_no_guest(self) -> DirectoryLock:
        if self.synthetic and (self.room is not None or self.guest_access):
            raise ValueError(f"synthetic lock {self.lock_id} must have no room and no guest access")
        return self


class RoomPolicy(StrEnum):
    """What a booking naming a room without locks gets."""

    PARTIAL = "partial"  # the known rooms are keyed; the unknown ones are dead-lettered with the reservation
    ALL_OR_NOTHING = "all_or_nothing"  # the whole event is dead-lettered


class PropertyDirectory(Frozen):
    tenant: str
    region: str
    property: str
    locks: tuple[DirectoryLock, ...] = Field(default=())
    room_policy: RoomPolicy = RoomPolicy.PARTIAL
    # Required in directory files and in PostgreSQL; None only for directories built in memory (tests, tools),
    # which then take PMS times with offsets only.
    times: PropertyTimes | None = None
    offline_fallback: OfflineFallback | None = None  # None: a lock whose gateway is offline is waited for

    def ref(self, lock: DirectoryLock) -> LockRef:
        return LockRef(tenant=self.tenant, region=self.region, property=self.property, lock_id=lock.lock_id,
                       vendor=lock.vendor, vendor_lock_id=lock.vendor_lock_id, gateway_id=lock.gateway_id,
                       offline_fallback=self.offline_fallback)

    def synthetic_locks(self) -> list[LockRef]:
        """The property's test locks for the synthetic vendor checks."""
        return [self.ref(lock) for lock in self.locks if lock.synthetic]

    def locks_for_stay(self, rooms: tuple[str, ...]) -> list[LockRef]:
        """Every lock a guest of these rooms opens: the rooms' doors (in directory order), then common areas with
        guest access."""
        wanted = set(rooms)
        doors = sorted((at, lock) for room in wanted for at, lock in self._index().doors_by_room.get(room, ()))
        return [self.ref(lock) for _, lock in doors] + [self.ref(lock) for lock in self._index().guest_areas]

    def unknown_rooms(self, rooms: tuple[str, ...]) -> list[str]:
        return [room for room in rooms if room not in self._index().doors_by_room]

    def _index(self) -> _RoomIndex:
        # Built once per directory (a worker keeps it), so a stay costs its rooms' look-ups, not a scan of every lock;
        # rebuilt when the locks are not the ones it was built from (model_copy copies it with the other attributes).
        index = self.__dict__.get("_room_index")
        if not isinstance(index, _RoomIndex) or index.locks is not self.locks:
            index = _RoomIndex.of(self.locks)
            self.__dict__["_room_index"] = index  # a cache, not a field: frozen, equality and dumps ignore it
        return index


@dataclass(frozen=True)
class _RoomIndex:
    locks: tuple[DirectoryLock, ...]
    doors_by_room: dict[str | None, list[tuple[int, DirectoryLock]]]
    guest_areas: list[DirectoryLock]

    @classmethod
    def of(cls, locks: tuple[DirectoryLock, ...]) -> _RoomIndex:
        by_room: dict[str | None, list[tuple[int, DirectoryLock]]] = {}
        for at, lock in enumerate(locks):
            by_room.setdefault(lock.room, []).append((at, lock))
        return cls(locks, by_room, [lock for lock in locks if lock.area is not None and lock.guest_access])


class LockDirectory(Protocol):
    async def property_directory(self, tenant: str, property_id: str) -> PropertyDirectory | None:
        """The locks of one property, or None when the tenant has no such property."""
        ...
