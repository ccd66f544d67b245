"""Who opened the door: a lock's own unlock records, synced from the vendor, matched to the stays whose codes were
typed (offline passcodes included), without the codes ever leaving the worker."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import AwareDatetime

from app.domain.credential import Frozen


class LockUnlock(Frozen):
    """One keypad attempt as the lock recorded it: when, the digits typed, whether the door opened."""

    at: AwareDatetime
    code: str | None
    opened: bool


class CodeOwner(Frozen):
    stay: str
    offline: bool  # an offline passcode (the gateway was down), not the normal PIN


class AttributedUnlock(Frozen):
    """An unlock record with the stay whose code was typed (None: no code of this lock's stays), never the code."""

    at: AwareDatetime
    opened: bool
    stay: str | None
    offline: bool = False


def attribute_unlocks(unlocks: list[LockUnlock], owners: Mapping[str, CodeOwner]) -> list[AttributedUnlock]:
    """Each record, oldest first, with the stay that owns the typed code in ``owners`` (code -> owner)."""
    attributed = []
    for unlock in sorted(unlocks, key=lambda record: record.at):
        owner = owners.get(unlock.code) if unlock.code else None
        attributed.append(AttributedUnlock(at=unlock.at, opened=unlock.opened, stay=owner.stay if owner else None,
                                           offline=owner.offline if owner else False))
    return attributed
