"""Tenant keys held in an HSM (PKCS#11): customer-managed key-encryption keys that never leave it.

Each tenant has two keys in the token, made non-extractable and sensitive: ``cmek-<tenant>-v1`` (AES-256) wraps the
data keys of sealed secrets with AES-256-GCM inside the HSM — the same wire format as the local store, so a sealed
secret opens with whichever store holds the tenant's key — and ``purpose-<tenant>-v1`` (an HMAC-SHA256 secret) derives
the purpose keys (guest pseudonyms, PINs, webhook ids, card tokens) by signing the purpose's name inside the HSM.
The tenant's keys are provisioned once (:meth:`Pkcs11KeyStore.provision`, ``lis keys provision``); a tenant without
them cannot seal or open anything. SoftHSM 2 stands in for a real HSM in the tests and the dev stack.
"""

from __future__ import annotations

import threading
from typing import Any

import pkcs11
from pkcs11 import Attribute, KeyType, Mechanism, MechanismFlag, ObjectClass
from pkcs11.exceptions import NoSuchKey, PKCS11Error
from pkcs11.mechanisms import GCMParams

from app.security.envelope import DOES_NOT_OPEN, KeyPurpose, SealError

SOFTHSM_LIBRARY = "/usr/lib/softhsm/libsofthsm2.so"
_LOCKED_DOWN = {Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False}


class Pkcs11KeyStore:
    """A :class:`app.security.envelope.KeyStore` over one PKCS#11 token (one session, used under a lock)."""

    def __init__(self, library: str, token_label: str, pin: str) -> None:
        self._session = pkcs11.lib(library).get_token(token_label=token_label).open(user_pin=pin, rw=True)
        self._lock = threading.Lock()
        self._keys: dict[str, Any] = {}

    def provision(self, tenant: str) -> bool:
        """Make the tenant's two keys in the token unless they exist; whether they were made."""
        with self._lock:
            try:
                self._find(_kek_label(tenant), KeyType.AES)
                return False
            except SealError:
                self._session.generate_key(KeyType.AES, 256, label=_kek_label(tenant), store=True,
                                           template=_LOCKED_DOWN)
                self._session.generate_key(KeyType.GENERIC_SECRET, 256, label=_purpose_label(tenant), store=True,
                                           capabilities=MechanismFlag.SIGN, template=_LOCKED_DOWN)
                return True

    def wrap_data_key(self, tenant: str, nonce: bytes, data_key: bytes, aad: bytes) -> bytes:
        with self._lock:
            kek = self._find(_kek_label(tenant), KeyType.AES)
            wrapped: bytes = kek.encrypt(data_key, mechanism=Mechanism.AES_GCM, mechanism_param=GCMParams(nonce, aad))
            return wrapped

    def unwrap_data_key(self, tenant: str, nonce: bytes, wrapped: bytes, aad: bytes) -> bytes:
        with self._lock:
            kek = self._find(_kek_label(tenant), KeyType.AES)
            try:
                data_key: bytes = kek.decrypt(wrapped, mechanism=Mechanism.AES_GCM,
                                              mechanism_param=GCMParams(nonce, aad))
            except PKCS11Error as err:  # SoftHSM reports a wrong tag as a general error
                raise SealError(DOES_NOT_OPEN) from err
            return data_key

    def purpose_key(self, tenant: str, purpose: KeyPurpose) -> bytes:
        with self._lock:
            secret = self._find(_purpose_label(tenant), KeyType.GENERIC_SECRET)
            derived: bytes = secret.sign(f"lis-purpose-v1|{purpose.value}".encode(), mechanism=Mechanism.SHA256_HMAC)
            return derived

    def close(self) -> None:
        self._session.close()

    def _find(self, label: str, key_type: KeyType) -> Any:
        if label not in self._keys:
            try:
                self._keys[label] = self._session.get_key(object_class=ObjectClass.SECRET_KEY, key_type=key_type,
                                                          label=label)
            except NoSuchKey as err:
                raise SealError(f"the HSM holds no key {label}: provision the tenant (lis keys provision)") from err
        return self._keys[label]


def _kek_label(tenant: str) -> str:
    return f"cmek-{tenant}-v1"


def _purpose_label(tenant: str) -> str:
    return f"purpose-{tenant}-v1"
