"""The lock directory at its edges: a stay opens its rooms' doors and the common areas open to guests — not a
staff-only area, not another room's door — and each lock carries its gateway and the property's offline fallback."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.domain.credential import OfflineFallback
from app.domain.directory import DirectoryLock, PropertyDirectory

FALLBACK = OfflineFallback(after_minutes=5, arrival_within_minutes=30)
DIRECTORY = PropertyDirectory(tenant="t1", region="eu-west", property="p1", offline_fallback=FALLBACK, locks=(
    DirectoryLock(lock_id="door-101", vendor="ttlock", vendor_lock_id="1", gateway_id="gw-1", room="101"),
    DirectoryLock(lock_id="door-102", vendor="ttlock", vendor_lock_id="2", room="102", guest_access=True),
    DirectoryLock(lock_id="lobby", vendor="ttlock", vendor_lock_id="3", gateway_id="gw-9", area="lobby",
                  guest_access=True),
    DirectoryLock(lock_id="linen", vendor="ttlock", vendor_lock_id="4", area="linen room"),
    DirectoryLock(lock_id="canary", vendor="ttlock", vendor_lock_id="5", area="test lock", synthetic=True),
))


def test_a_stay_opens_its_door_and_the_guest_areas_only() -> None:
    assert [ref.lock_id for ref in DIRECTORY.locks_for_stay(("101",))] == ["door-101", "lobby"]


def test_a_stay_of_several_rooms_opens_each_door_once_in_directory_order_then_the_guest_areas() -> None:
    suite = DIRECTORY.model_copy(update={"locks": (
        *DIRECTORY.locks, DirectoryLock(lock_id="door-101b", vendor="ttlock", vendor_lock_id="6", room="101"))})
    opened = [ref.lock_id for ref in suite.locks_for_stay(("102", "101", "102"))]
    assert opened == ["door-101", "door-102", "door-101b", "lobby"]
    assert suite.unknown_rooms(("102", "999", "101")) == ["999"]
    assert [ref.lock_id for ref in suite.locks_for_stay(("999", "102"))] == ["door-102", "lobby"]


def test_the_room_index_is_built_once_per_directory_and_again_for_a_copy_with_other_locks() -> None:
    index = DIRECTORY._index()
    assert DIRECTORY._index() is index  # a stay costs its rooms' look-ups, not a scan of every lock
    copy = DIRECTORY.model_copy(update={"locks": DIRECTORY.locks[:1]})
    assert copy._index() is not index
    assert copy._index() is copy._index()


def test_every_lock_of_a_stay_carries_its_gateway_and_the_propertys_offline_fallback() -> None:
    refs = DIRECTORY.locks_for_stay(("101",))
    assert [(ref.gateway_id, ref.offline_fallback) for ref in refs] == [("gw-1", FALLBACK), ("gw-9", FALLBACK)]


def test_the_synthetic_checks_find_the_test_locks_and_no_stay_opens_one() -> None:
    assert [ref.lock_id for ref in DIRECTORY.synthetic_locks()] == ["canary"]
    every_room = tuple(lock.room for lock in DIRECTORY.locks if lock.room)
    assert "canary" not in [ref.lock_id for ref in DIRECTORY.locks_for_stay(every_room)]


@pytest.mark.parametrize("serves", [{"room": "103"}, {"area": "lobby", "guest_access": True}], ids=["room", "guests"])
def test_a_synthetic_lock_that_would_serve_a_guest_is_refused(serves: dict[str, object]) -> None:
    with pytest.raises(ValidationError, match="synthetic lock canary must have no room and no guest access"):
        DirectoryLock(lock_id="canary", vendor="ttlock", vendor_lock_id="5", synthetic=True, **serves)  # type: ignore[arg-type]
