"""Tenant keys in an HSM (LIS_KEY_STORE=pkcs11, app/security/pkcs11_keys.py) on a real PKCS#11 token: SoftHSM 2,
with a token of its own. Secrets sealed through it open only for their tenant and binding, the keys cannot be read
out of the token, and a tenant nobody provisioned can seal nothing."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pkcs11
import pytest
from pkcs11 import Attribute, KeyType, ObjectClass

from app.devstack.softhsm import init_token, softhsm_library
from app.security.envelope import KeyPurpose, SealError, open_sealed, seal
from app.security.pkcs11_keys import Pkcs11KeyStore
from app.settings import Settings

PIN = secrets.token_hex(4)
LABEL = "lis-test"


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One token for the module: SoftHSM reads SOFTHSM2_CONF once, when the library is first loaded."""
    conf = init_token(tmp_path_factory.mktemp("softhsm"), LABEL, PIN)
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    yield conf
    if previous is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = previous


@pytest.fixture(scope="module")
def store(token: Path) -> Iterator[Pkcs11KeyStore]:
    keys = Settings(key_store="pkcs11", pkcs11_library=str(softhsm_library()), pkcs11_token=LABEL,
                    pkcs11_pin=PIN).keys()  # type: ignore[arg-type]
    assert isinstance(keys, Pkcs11KeyStore)
    assert keys.provision("t1") is True
    assert keys.provision("t1") is False, "provisioning twice makes no second key"
    keys.provision("t2")
    yield keys
    keys.close()


def test_a_secret_sealed_through_the_hsm_opens_only_for_its_tenant_and_binding(store: Pkcs11KeyStore) -> None:
    sealed = seal(store, "t1", "vendor:p1:ttlock", b"client-secret")
    assert open_sealed(store, "t1", "vendor:p1:ttlock", sealed) == b"client-secret"
    with pytest.raises(SealError, match="does not open"):
        open_sealed(store, "t2", "vendor:p1:ttlock", sealed)  # the other tenant's key
    with pytest.raises(SealError, match="does not open"):
        open_sealed(store, "t1", "vendor:p2:ttlock", sealed)  # another record's binding


def test_the_tenant_keys_cannot_be_read_out_of_the_token(store: Pkcs11KeyStore, token: Path) -> None:
    with pkcs11.lib(str(softhsm_library())).get_token(token_label=LABEL).open() as session:  # logged in already
        for label, key_type in (("cmek-t1-v1", KeyType.AES), ("purpose-t1-v1", KeyType.GENERIC_SECRET)):
            key = session.get_key(object_class=ObjectClass.SECRET_KEY, key_type=key_type, label=label)
            assert (key[Attribute.SENSITIVE], key[Attribute.EXTRACTABLE]) == (True, False)
            with pytest.raises(pkcs11.exceptions.AttributeSensitive):
                key[Attribute.VALUE]


def test_purpose_keys_are_derived_in_the_hsm_apart_per_tenant_and_purpose(store: Pkcs11KeyStore) -> None:
    derived = {(tenant, purpose): store.purpose_key(tenant, purpose)
               for tenant in ("t1", "t2") for purpose in KeyPurpose}
    assert len(set(derived.values())) == len(derived), "no two tenants or purposes share a key"
    assert all(len(key) == 32 for key in derived.values())
    assert store.purpose_key("t1", KeyPurpose.PIN) == derived[("t1", KeyPurpose.PIN)], "stable: PINs reproduce"


def test_a_tenant_nobody_provisioned_can_seal_nothing(store: Pkcs11KeyStore) -> None:
    with pytest.raises(SealError, match="provision the tenant"):
        seal(store, "t3", "vendor:p1:ttlock", b"client-secret")
