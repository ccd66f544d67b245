"""Key separation: wrapping, guest pseudonyms, PINs, webhook ids and card tokens each have their own key, so each
purpose's output changes when only its own key does, and the KEK is used for nothing but wrapping."""

from __future__ import annotations

import pytest

from adapters.wiegand.mapping import CardRefs
from app.security.envelope import KeyPurpose, LocalKeyStore, open_sealed, seal
from app.security.pseudonym import guest_ref, passcode_for, webhook_ref

MASTER = b"m" * 32


class OnePurposeChanged(LocalKeyStore):
    """The same keys as ``MASTER``'s, except the key of one purpose (or the KEK) replaced."""

    def __init__(self, changed: KeyPurpose | str) -> None:
        super().__init__(MASTER)
        self.changed = changed

    def tenant_kek(self, tenant: str) -> bytes:
        return b"k" * 32 if self.changed == "kek" else super().tenant_kek(tenant)

    def purpose_key(self, tenant: str, purpose: KeyPurpose) -> bytes:
        return b"p" * 32 if purpose == self.changed else super().purpose_key(tenant, purpose)


def outputs(keys: LocalKeyStore) -> dict[str, str]:
    return {
        KeyPurpose.GUEST_PSEUDONYM: guest_ref(keys, "t1", "guest-42"),
        KeyPurpose.PIN: passcode_for(keys, "t1", "t1/eu-west/door-1|t1/p1/R1|1"),
        KeyPurpose.WEBHOOK_ID: webhook_ref(keys, "t1", "123|4:1700000000:1::482913"),
        KeyPurpose.CARD_TOKEN: CardRefs(keys.purpose_key("t1", KeyPurpose.CARD_TOKEN)).encode(42, 4711),
    }


@pytest.mark.parametrize("purpose", list(KeyPurpose))
def test_each_purposes_output_changes_when_only_its_own_key_does(purpose: KeyPurpose) -> None:
    before, after = outputs(LocalKeyStore(MASTER)), outputs(OnePurposeChanged(purpose))
    assert {name for name in before if before[name] != after[name]} == {purpose}


def test_the_kek_wraps_and_derives_nothing() -> None:
    sealed = seal(LocalKeyStore(MASTER), "t1", "vendor:p1:ttlock", b"secret")
    assert outputs(OnePurposeChanged("kek")) == outputs(LocalKeyStore(MASTER)), "no derivation uses the KEK"
    with pytest.raises(Exception, match="does not open"):
        open_sealed(OnePurposeChanged("kek"), "t1", "vendor:p1:ttlock", sealed)
    assert open_sealed(OnePurposeChanged(KeyPurpose.PIN), "t1", "vendor:p1:ttlock", sealed) == b"secret"


def test_the_local_stores_keys_differ_by_purpose_and_tenant_and_from_the_kek() -> None:
    keys = LocalKeyStore(MASTER)
    derived = [keys.purpose_key(tenant, purpose) for tenant in ("t1", "t2") for purpose in KeyPurpose]
    derived += [keys.tenant_kek("t1"), keys.tenant_kek("t2")]
    assert len(set(derived)) == len(derived)
    assert all(len(key) == 32 for key in derived)
