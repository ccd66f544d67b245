"""Credential material per kind and vendor: derived PINs, card numbers in the format's range per attempt, and the
guest's mobile-key account sealed from the PMS event to the vendor call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.credential_material import CredentialMaterial, seal_mobile_account
from app.domain.credential import CredentialKind, LockRef, Validity, VendorName
from app.domain.errors import InvalidRequest
from app.domain.lock_saga import CredentialRecord, CredentialStatus
from app.domain.reservation import ReservationEvent
from app.domain.stay import step_stay
from app.security.envelope import LocalKeyStore

KEYS = LocalKeyStore(bytes(range(32)))
START = datetime(2026, 12, 1, 15, tzinfo=UTC)
WINDOW = Validity(starts_at=START, ends_at=START + timedelta(days=2))


class RecordedCards:
    def __init__(self) -> None:
        self.asked: list[tuple[str, str, str, datetime, int]] = []
        self.extended: list[tuple[str, datetime]] = []

    async def allocate(self, tenant: str, property_id: str, holder: str, until: datetime, highest: int) -> int:
        self.asked.append((tenant, property_id, holder, until, highest))
        return 4000 + len(self.asked)

    async def extend(self, tenant: str, property_id: str, holders_prefix: str, until: datetime) -> None:
        self.extended.append((holders_prefix, until))


def lock(vendor: VendorName) -> LockRef:
    return LockRef(tenant="acme", region="eu-west", property="p1", lock_id="door-1", vendor=vendor,
                   vendor_lock_id="1")


def record(kind: CredentialKind, **fields: object) -> CredentialRecord:
    return CredentialRecord(stay="acme/p1/R1", sequence=1, idempotency_key="acme/eu-west/door-1|acme/p1/R1|1",
                            status=CredentialStatus.ISSUING, kind=kind, validity=WINDOW, **fields)


async def test_a_passcode_is_a_six_digit_pin_reproducible_per_attempt() -> None:
    material = CredentialMaterial(KEYS, RecordedCards())
    first = await material.secret(lock("ttlock"), record(CredentialKind.PASSCODE), 0)
    assert first == await material.secret(lock("ttlock"), record(CredentialKind.PASSCODE), 0)
    assert first != await material.secret(lock("ttlock"), record(CredentialKind.PASSCODE), 1)
    assert first is not None
    assert first.isdigit()
    assert len(first) == 6


async def test_a_wiegand_card_gets_a_number_in_the_h10301_range_held_until_the_stay_ends() -> None:
    cards = RecordedCards()
    material = CredentialMaterial(KEYS, cards)
    number = await material.secret(lock("wiegand"), record(CredentialKind.CARD), 1)
    assert number == "4001"
    assert cards.asked == [("acme", "p1", "acme/eu-west/door-1|acme/p1/R1|1#1", WINDOW.ends_at, 65_535)]


async def test_salto_encodes_its_own_cards_and_gets_no_number() -> None:
    cards = RecordedCards()
    assert await CredentialMaterial(KEYS, cards).secret(lock("salto"), record(CredentialKind.CARD), 0) is None
    assert cards.asked == []


async def test_moving_a_cards_window_holds_every_attempts_number_longer() -> None:
    cards = RecordedCards()
    longer = Validity(starts_at=START, ends_at=START + timedelta(days=5))
    await CredentialMaterial(KEYS, cards).hold(lock("ttlock"), record(CredentialKind.CARD), longer)
    await CredentialMaterial(KEYS, cards).hold(lock("ttlock"), record(CredentialKind.PASSCODE), longer)
    assert cards.extended == [("acme/eu-west/door-1|acme/p1/R1|1#", longer.ends_at)]


async def test_the_mobile_key_account_travels_sealed_from_the_pms_event_to_the_vendor_call() -> None:
    event = ReservationEvent(event_id="e1", type="reservation.confirmed", tenant="acme", region="eu-west",
                             property="p1", reservation="R1", sequence=1, occurred_at=START, rooms=("101",),
                             arrival=WINDOW.starts_at, departure=WINDOW.ends_at, credential_kind="mobile_key",
                             mobile_key_account="+4915112345678")
    sealed = seal_mobile_account(KEYS, "acme", event.stay_id, "+4915112345678")
    _, [command] = step_stay(None, event, [lock("salto")], None, sealed)
    assert "4915112345678" not in command.model_dump_json()
    issued = record(CredentialKind.MOBILE_KEY, mobile_account=command.mobile_account)
    assert await CredentialMaterial(KEYS, RecordedCards()).secret(lock("salto"), issued, 0) == "+4915112345678"
    moved = issued.model_copy(update={"stay": "acme/p1/R2"})
    with pytest.raises(InvalidRequest, match="cannot be opened"):  # bound to its stay: no other reservation
        await CredentialMaterial(KEYS, RecordedCards()).secret(lock("salto"), moved, 0)


def test_a_mobile_key_without_an_account_is_refused_at_the_pms_boundary() -> None:
    with pytest.raises(ValueError, match="mobile_key_account"):
        ReservationEvent(event_id="e1", type="reservation.confirmed", tenant="acme", region="eu-west",
                         property="p1", reservation="R1", sequence=1, occurred_at=START, rooms=("101",),
                         arrival=WINDOW.starts_at, departure=WINDOW.ends_at, credential_kind="mobile_key")
