"""The end-to-end stream audit as a pure function: what the PMS sent against what the service holds.

Every stay on ``pms.reservations`` (its events not dead-lettered) must have a stay record at the latest revision
the PMS sent, and, while active, a saga record on each of its locks. Anything else is a difference, reported with
what to re-drive: the stay's PMS events (the stay saga ignores revisions it applied) or the lock command that the
stay implies, as a replay (the lock saga ignores what it already holds, and looks on the lock by label before
issuing, so a credential that is there already is adopted, not doubled).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.domain.lock_event import LockAction, LockCommand
from app.domain.lock_saga import LockSaga
from app.domain.reservation import ReservationEvent
from app.domain.stay import Stay, StayStatus


class Problem(StrEnum):
    NO_STAY = "no stay record"
    STAY_BEHIND = "stay record behind its PMS events"
    NO_SAGA = "active stay without a saga record on its lock"


@dataclass(frozen=True)
class Difference:
    stay: str
    problem: Problem
    detail: str
    lock_command: LockCommand | None = None  # re-drive on lock.commands; None: re-drive the stay's PMS events


def find_differences(events: list[ReservationEvent], stays: dict[str, Stay],
                     sagas: dict[str, LockSaga]) -> list[Difference]:
    """Differences between the PMS ``events`` (already without dead-lettered ones) and the service's tables."""
    latest: dict[str, int] = {}
    for event in events:
        latest[event.stay_id] = max(latest.get(event.stay_id, -1), event.sequence)
    found: list[Difference] = []
    for stay_id, sequence in sorted(latest.items()):
        stay = stays.get(stay_id)
        if stay is None:
            found.append(Difference(stay_id, Problem.NO_STAY, f"PMS revision {sequence}, no stay record"))
        elif stay.sequence < sequence:
            found.append(Difference(stay_id, Problem.STAY_BEHIND, f"PMS revision {sequence}, stay at {stay.sequence}"))
        elif stay.status is StayStatus.ACTIVE:
            found += [Difference(stay_id, Problem.NO_SAGA, f"lock {lock.key}", _issue(stay, lock_index))
                      for lock_index, lock in enumerate(stay.locks)
                      if stay_id not in (sagas[lock.key].credentials if lock.key in sagas else {})]
    return found


def _issue(stay: Stay, lock_index: int) -> LockCommand:
    return LockCommand(action=LockAction.ISSUE, lock=stay.locks[lock_index], stay=stay.stay, sequence=stay.sequence,
                       kind=stay.kind, validity=stay.validity, guest_ref=stay.guest_ref,
                       cause="audit-stream:re-driven", replay=True)
