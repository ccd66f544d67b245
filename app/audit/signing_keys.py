"""Ed25519 signing keys for the audit log's checkpoints, kept in files under the data dir.

The directory (mode 0700) holds ``signing.key``, the current private key (raw 32-byte seed, mode 0600), and
``trusted.vkeys``, every public key the store ever signed with, as C2SP vkeys, one per line and never rewritten.
Rotation appends the new public key first (so nothing it signs is ever unverifiable) and then atomically replaces
the private key, destroying the old one; old checkpoints stay verifiable through their kept public keys.

The private key never leaves this module: callers ask the store to sign a note. Nothing here logs, and the
store's ``repr`` shows its directory and key id only.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.audit.checkpoint import VerifierKey, parse_vkey, sign_note

DEFAULT_KEY_NAME = "lock-integration.audit"
_PRIVATE = "signing.key"
_TRUSTED = "trusted.vkeys"


class SigningKeyStore:
    """The audit log's signing key and every public key it has used, in one directory."""

    def __init__(self, directory: Path, name: str = DEFAULT_KEY_NAME) -> None:
        self.directory = directory
        self.name = name
        self._private: Ed25519PrivateKey | None = None

    @classmethod
    def open(cls, directory: Path, name: str = DEFAULT_KEY_NAME) -> SigningKeyStore:
        """The store in ``directory``, creating the directory and a first key on first use."""
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        directory.chmod(0o700)
        store = cls(directory, name)
        if not (directory / _PRIVATE).exists():
            store._install(Ed25519PrivateKey.generate(), replace=False)
        return store

    def __repr__(self) -> str:
        return f"SigningKeyStore({str(self.directory)!r}, key_id={self.current().key_id.hex()})"

    def current(self) -> VerifierKey:
        """The public half of the key that signs now."""
        return VerifierKey(self.name, self._private_key().public_key())

    def verifiers(self) -> list[VerifierKey]:
        """Every public key this store has signed with, oldest first: what checkpoint verifiers trust."""
        path = self.directory / _TRUSTED
        lines = path.read_text().splitlines() if path.exists() else []
        keys = [parse_vkey(line) for line in lines if line]
        if self._private is None and not (self.directory / _PRIVATE).exists():
            return keys  # a verifier's copy of the public keys, without the private key
        current = self.current()
        # The first key can be read before its creator appended it to the file (a concurrent first use).
        return keys if current in keys else [*keys, current]

    def sign(self, text: str) -> str:
        """``text`` as a C2SP signed note, signed by the current key."""
        return sign_note(text, self.name, self._private_key())

    def rotate(self) -> VerifierKey:
        """Start signing with a new key; the old private key is destroyed, its public key stays trusted."""
        self._install(Ed25519PrivateKey.generate(), replace=True)
        return self.current()

    def _private_key(self) -> Ed25519PrivateKey:
        if self._private is None:
            self._private = Ed25519PrivateKey.from_private_bytes((self.directory / _PRIVATE).read_bytes())
        return self._private

    def _install(self, key: Ed25519PrivateKey, *, replace: bool) -> None:
        staged = self.directory / f".{_PRIVATE}.{secrets.token_hex(8)}"
        fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(key.private_bytes_raw())
            out.flush()
            os.fsync(out.fileno())
        try:
            if not replace:
                try:
                    os.link(staged, self.directory / _PRIVATE)  # fails if another process created the first key
                except FileExistsError:
                    return
            self._trust(VerifierKey(self.name, key.public_key()))
            if replace:
                os.replace(staged, self.directory / _PRIVATE)
        finally:
            staged.unlink(missing_ok=True)
        self._private = key

    def _trust(self, key: VerifierKey) -> None:
        fd = os.open(self.directory / _TRUSTED, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        with os.fdopen(fd, "a") as out:
            out.write(key.vkey + "\n")
            out.flush()
            os.fsync(out.fileno())
