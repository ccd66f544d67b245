"""A lock saga keeps the record of an ended stay for exactly the broker's retention after its window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.domain.credential import CredentialKind, LockRef, Validity
from app.domain.saga_records import KEPT_AFTER_STAY, CredentialRecord, CredentialStatus, LockSaga, without_ended_stays

LOCK = LockRef(tenant="t1", region="eu-west", property="p1", lock_id="lobby", vendor="ttlock", vendor_lock_id="9")
ENDS = datetime(2026, 12, 3, 11, tzinfo=UTC)
SAGA = LockSaga(lock=LOCK, credentials={"R1": CredentialRecord(
    stay="R1", sequence=1, idempotency_key="k", status=CredentialStatus.ISSUED, kind=CredentialKind.PASSCODE,
    validity=Validity(starts_at=ENDS - timedelta(days=2), ends_at=ENDS))})


def test_an_ended_stays_record_is_kept_until_the_retention_has_passed() -> None:
    assert "R1" in without_ended_stays(SAGA, ENDS + KEPT_AFTER_STAY).credentials
    assert "R1" not in without_ended_stays(SAGA, ENDS + KEPT_AFTER_STAY + timedelta(seconds=1)).credentials
