"""The offline-passcode fallback: when a lock's gateway is offline, when to stop waiting for it and what window an
offline code can have.

An offline (algorithmic) passcode is computed by the vendor's cloud from the lock's own secret and checked by the
lock itself, so it needs no gateway. Its window is whole (UTC) hours: the start is the hour the stay starts in (or,
for a stay already under way, the current hour), the end the first whole hour at or after the stay's end. The window
is widened, never shortened: it opens at most an hour early and ends less than an hour late, and that hour bounds the
exposure of a code that cannot be deleted while the gateway is down.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.domain.credential import CredentialKind, OfflineFallback, Validity

HOUR = timedelta(hours=1)


def offline_window(validity: Validity, now: datetime) -> Validity:
    """The whole-hour window of an offline code for a stay of ``validity`` asked for at ``now``."""
    start = _floor_hour(max(validity.starts_at, now))
    end = _floor_hour(validity.ends_at)
    if end < validity.ends_at:
        end += HOUR
    return Validity(starts_at=start, ends_at=max(end, start + HOUR))


def fallback_due(policy: OfflineFallback | None, kind: CredentialKind, validity: Validity | None,
                 unreachable_since: datetime, now: datetime) -> bool:
    """Whether a passcode whose gateway has been unreachable since ``unreachable_since`` should stop waiting: the
    policy is on and the gateway has been down long enough, or the guest arrives soon (or has arrived)."""
    if policy is None or kind is not CredentialKind.PASSCODE or validity is None:
        return False
    waited = now - unreachable_since >= timedelta(minutes=policy.after_minutes)
    arriving = validity.starts_at - now <= timedelta(minutes=policy.arrival_within_minutes)
    return waited or arriving


def _floor_hour(moment: datetime) -> datetime:
    """The whole UTC hour at or before ``moment`` (whole epoch hours: what the vendor's algorithm takes)."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
