"""Envelope encryption of vendor secrets with per-tenant keys.

Each secret gets a fresh 256-bit data key; the data key is wrapped (AES-GCM) by the tenant's key-encryption key (KEK)
from a :class:`KeyStore`; the associated data binds the record to its tenant and purpose, so a sealed blob copied to
another tenant's row or another vendor's row fails to open. The local key store derives each tenant's KEK from a
master key kept outside the repository and the database; cloud KMS stores implement the same protocol. Keyed
derivations (guest pseudonyms, PINs, webhook ids) each use their own :meth:`KeyStore.purpose_key`, never the KEK.
"""

from __future__ import annotations

import os
import secrets
import struct
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = 1


DOES_NOT_OPEN = "sealed secret does not open for this tenant and binding"


class SealError(Exception):
    """A sealed secret could not be opened: wrong tenant, wrong binding, or tampered bytes."""


class KeyPurpose(StrEnum):
    """What a keyed derivation is for: each purpose has its own key, so no output of one helps attack another."""

    GUEST_PSEUDONYM = "guest-pseudonym"  # guest ids -> stable pseudonyms
    PIN = "pin"  # idempotency keys -> passcodes
    WEBHOOK_ID = "webhook-id"  # unsigned callbacks -> replay ids
    CARD_TOKEN = "card-token"  # card numbers -> the tokens standing for them (a name)  # nosec B105


class KeyStore(Protocol):
    """Where the tenants' key-encryption keys live: a local master key, or an HSM that never lets them out
    (app/security/pkcs11_keys.py). Both wrap data keys with AES-256-GCM, so a sealed secret has one format."""

    def wrap_data_key(self, tenant: str, nonce: bytes, data_key: bytes, aad: bytes) -> bytes:
        """``data_key`` encrypted (AES-256-GCM, ciphertext and tag) under ``tenant``'s key-encryption key."""
        ...

    def unwrap_data_key(self, tenant: str, nonce: bytes, wrapped: bytes, aad: bytes) -> bytes:
        """The data key :meth:`wrap_data_key` wrapped; :class:`SealError` when it does not open."""
        ...

    def purpose_key(self, tenant: str, purpose: KeyPurpose) -> bytes:
        """The 32-byte key of ``tenant`` for one keyed derivation, separate from the KEK and from other purposes."""
        ...


class LocalKeyStore:
    """Derives per-tenant KEKs (HKDF-SHA256) from a 32-byte master key held in a file with mode 0600."""

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise ValueError("the master key must be 32 bytes")
        self._master = master_key

    @classmethod
    def from_file(cls, path: Path) -> LocalKeyStore:
        """Load the master key, creating it on first use (development); never logged, never committed."""
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(secrets.token_bytes(32))
        return cls(path.read_bytes())

    def tenant_kek(self, tenant: str) -> bytes:
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"lis-tenant-kek-v1", info=tenant.encode())
        return hkdf.derive(self._master)

    def wrap_data_key(self, tenant: str, nonce: bytes, data_key: bytes, aad: bytes) -> bytes:
        return AESGCM(self.tenant_kek(tenant)).encrypt(nonce, data_key, aad)

    def unwrap_data_key(self, tenant: str, nonce: bytes, wrapped: bytes, aad: bytes) -> bytes:
        try:
            return AESGCM(self.tenant_kek(tenant)).decrypt(nonce, wrapped, aad)
        except InvalidTag as err:
            raise SealError(DOES_NOT_OPEN) from err

    def purpose_key(self, tenant: str, purpose: KeyPurpose) -> bytes:
        info = f"{purpose.value}|{tenant}".encode()
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"lis-purpose-v1", info=info).derive(self._master)


def _aad(tenant: str, binding: str) -> bytes:
    return b"lis|" + tenant.encode() + b"|" + binding.encode()


def seal(keys: KeyStore, tenant: str, binding: str, plaintext: bytes) -> bytes:
    """Encrypt ``plaintext`` for ``tenant``; ``binding`` names the record it belongs to (e.g. ``vendor:P1:ttlock``)."""
    aad = _aad(tenant, binding)
    data_key = AESGCM.generate_key(bit_length=256)
    data_nonce, wrap_nonce = os.urandom(12), os.urandom(12)
    ciphertext = AESGCM(data_key).encrypt(data_nonce, plaintext, aad)
    wrapped = keys.wrap_data_key(tenant, wrap_nonce, data_key, aad)
    return struct.pack(">BH", _VERSION, len(wrapped)) + wrap_nonce + wrapped + data_nonce + ciphertext


def open_sealed(keys: KeyStore, tenant: str, binding: str, sealed: bytes) -> bytes:
    """Decrypt what :func:`seal` produced for the same tenant and binding, or raise :class:`SealError`."""
    try:
        version, wrapped_len = struct.unpack(">BH", sealed[:3])
        if version != _VERSION:
            raise SealError(f"unknown sealed format version {version}")
        body = sealed[3:]
        wrap_nonce, wrapped = body[:12], body[12 : 12 + wrapped_len]
        data_nonce, ciphertext = body[12 + wrapped_len : 24 + wrapped_len], body[24 + wrapped_len :]
        aad = _aad(tenant, binding)
        data_key = keys.unwrap_data_key(tenant, wrap_nonce, wrapped, aad)
        return AESGCM(data_key).decrypt(data_nonce, ciphertext, aad)
    except (InvalidTag, struct.error, ValueError) as err:
        raise SealError(DOES_NOT_OPEN) from err
