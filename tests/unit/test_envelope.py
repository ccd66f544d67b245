"""Envelope encryption of vendor secrets: per-tenant keys, bound to their record."""

from __future__ import annotations

import pytest

from app.security.envelope import LocalKeyStore, SealError, open_sealed, seal
from app.security.pseudonym import guest_ref, passcode_for

KEYS = LocalKeyStore(bytes(range(32)))


def test_sealed_secret_opens_for_its_tenant_and_binding() -> None:
    sealed = seal(KEYS, "t1", "vendor_account:p1:ttlock", b"s3cret")
    assert b"s3cret" not in sealed
    assert open_sealed(KEYS, "t1", "vendor_account:p1:ttlock", sealed) == b"s3cret"


@pytest.mark.parametrize(
    ("tenant", "binding"), [("t2", "vendor_account:p1:ttlock"), ("t1", "vendor_account:p2:ttlock")]
)
def test_sealed_secret_refuses_another_tenant_or_record(tenant: str, binding: str) -> None:
    sealed = seal(KEYS, "t1", "vendor_account:p1:ttlock", b"s3cret")
    with pytest.raises(SealError):
        open_sealed(KEYS, tenant, binding, sealed)


def test_a_flipped_byte_is_detected() -> None:
    sealed = bytearray(seal(KEYS, "t1", "b", b"s3cret"))
    sealed[-1] ^= 1
    with pytest.raises(SealError):
        open_sealed(KEYS, "t1", "b", bytes(sealed))


def test_each_seal_uses_a_fresh_data_key() -> None:
    assert seal(KEYS, "t1", "b", b"x") != seal(KEYS, "t1", "b", b"x")


def test_guest_pseudonyms_are_stable_per_tenant_and_differ_across_tenants() -> None:
    assert guest_ref(KEYS, "t1", "guest-42") == guest_ref(KEYS, "t1", "guest-42")
    assert guest_ref(KEYS, "t1", "guest-42") != guest_ref(KEYS, "t2", "guest-42")
    assert "guest-42" not in guest_ref(KEYS, "t1", "guest-42")


def test_passcodes_are_reproducible_six_digits_and_change_per_attempt() -> None:
    pin = passcode_for(KEYS, "t1", "key-1")
    assert pin == passcode_for(KEYS, "t1", "key-1")
    assert len(pin) == 6
    assert pin.isdigit()
    assert pin != passcode_for(KEYS, "t1", "key-1", attempt=1)
