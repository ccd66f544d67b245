"""A stay's window from what the PMS sends, in the property's time zone: a pure function.

The PMS may send each of arrival and departure as

* an instant with an offset (``2026-12-01T15:00:00+01:00``, or ``Z``): used as given; a non-zero offset must be the
  property zone's offset at that instant, else the PMS and the directory disagree about where the hotel is;
* a local wall-clock time without an offset (``2026-12-01T15:00:00``): read in the property's zone;
* a date only (``2026-12-01``): the property's check-in time on the arrival date (its early check-in time when the
  event says ``early_check_in``) and check-out time on the departure date (late checkout time with
  ``late_checkout``), read in the property's zone.

Local times the zone's clock skips or repeats follow one rule, chosen so a guest is never locked out and a window is
never shortened: a time in a DST gap (it does not exist) moves forward by the gap — 02:30 on a spring-forward night
in Berlin is 03:30; an ambiguous time in a fold (it happens twice) takes the earlier instant for arrival and the later
one for departure, which widens the window by at most the fold (an hour, 30 minutes on Lord Howe).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator

from app.domain.credential import Frozen, Validity

Role = Literal["arrival", "departure"]


class PropertyTimes(Frozen):
    """Where a property is and when its guests arrive and leave by default (local times)."""

    time_zone: str  # IANA name, e.g. Europe/Berlin
    check_in: time = time(15)
    check_out: time = time(11)
    early_check_in: time = time(12)
    late_checkout: time = time(14)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(f"{value!r} is not an IANA time zone name (e.g. Europe/Berlin)") from err
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


def stay_window(arrival: datetime | date, departure: datetime | date, times: PropertyTimes, *,
                early_check_in: bool = False, late_checkout: bool = False) -> Validity:
    """The validity of a stay; ValueError with a reason a PMS integrator can act on."""
    starts = instant(arrival, "arrival", times, flagged=early_check_in)
    ends = instant(departure, "departure", times, flagged=late_checkout)
    if ends <= starts:
        raise ValueError(f"departure {ends.isoformat()} is not after arrival {starts.isoformat()} "
                         f"(in {times.time_zone})")
    return Validity(starts_at=starts, ends_at=ends)


def instant(value: datetime | date, role: Role, times: PropertyTimes, *, flagged: bool = False) -> datetime:
    """One end of the window as an aware instant (UTC)."""
    if not isinstance(value, datetime):
        default = (times.early_check_in if flagged else times.check_in) if role == "arrival" else (
            times.late_checkout if flagged else times.check_out)
        value = datetime.combine(value, default)
    if value.tzinfo is None:
        return local_instant(value, role, times.zone)
    offset = value.utcoffset()
    expected = value.astimezone(times.zone).utcoffset()
    if offset and offset != expected:
        raise ValueError(f"{role} {value.isoformat()} has offset {_offset(offset)}, but {times.time_zone} is at "
                         f"{_offset(expected)} then")
    return value.astimezone(UTC)


def local_instant(local: datetime, role: Role, zone: ZoneInfo) -> datetime:
    """A wall-clock time in ``zone`` as an instant, by the gap and fold rules above."""
    earlier, later = local.replace(tzinfo=zone, fold=0), local.replace(tzinfo=zone, fold=1)
    if earlier.utcoffset() == later.utcoffset():
        return earlier.astimezone(UTC)  # an ordinary time
    if _exists(earlier, zone):  # a fold: it happened twice
        return (earlier if role == "arrival" else later).astimezone(UTC)
    # A gap: fold=0 reads it with the offset before the change, which lands as far past the gap's start as the
    # time was: 02:30 in a 02:00-03:00 gap becomes 03:30 on the new clock.
    return earlier.astimezone(UTC)


def _exists(aware: datetime, zone: ZoneInfo) -> bool:
    """Whether the wall-clock time really occurs in ``zone`` (a round trip through UTC gives it back)."""
    back = aware.astimezone(UTC).astimezone(zone)
    return back.replace(tzinfo=None) == aware.replace(tzinfo=None)


def _offset(value: timedelta | None) -> str:
    minutes = int((value or timedelta()).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
