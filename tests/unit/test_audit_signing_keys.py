"""The audit log's Ed25519 key store: private key files only the service can read, rotation that keeps every old
checkpoint verifiable, and no key material in anything printable."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from app.audit.checkpoint import Checkpoint, format_checkpoint, open_checkpoint, verify_note
from app.audit.merkle import leaf_hash
from app.audit.signing_keys import SigningKeyStore

TEXT = format_checkpoint(Checkpoint("lock-integration.audit/t1", 3, leaf_hash(b"root")))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_first_use_creates_a_private_key_only_the_owner_can_read(tmp_path: Path) -> None:
    keys = SigningKeyStore.open(tmp_path / "signing")
    assert mode(tmp_path / "signing") == 0o700
    assert mode(tmp_path / "signing" / "signing.key") == 0o600
    assert [p.name for p in (tmp_path / "signing").iterdir() if p.name.startswith(".")] == []
    assert open_checkpoint(keys.sign(TEXT), keys.verifiers()).size == 3


def test_reopening_the_store_signs_with_the_same_key(tmp_path: Path) -> None:
    first = SigningKeyStore.open(tmp_path)
    again = SigningKeyStore.open(tmp_path)
    assert again.current() == first.current()
    assert again.verifiers() == [first.current()]


def test_rotation_destroys_the_old_private_key_but_keeps_its_public_key_trusted(tmp_path: Path) -> None:
    keys = SigningKeyStore.open(tmp_path)
    old_note, old_key = keys.sign(TEXT), keys.current()
    old_private = (tmp_path / "signing.key").read_bytes()
    new_key = keys.rotate()
    assert new_key != old_key
    assert (tmp_path / "signing.key").read_bytes() != old_private
    assert mode(tmp_path / "signing.key") == 0o600
    reopened = SigningKeyStore.open(tmp_path)
    assert reopened.verifiers() == [old_key, new_key]
    assert verify_note(old_note, reopened.verifiers()).signers == (old_key,)
    assert verify_note(reopened.sign(TEXT), reopened.verifiers()).signers == (new_key,)


def test_a_verifier_without_the_private_key_trusts_the_published_public_keys_only(tmp_path: Path) -> None:
    signer = SigningKeyStore.open(tmp_path / "signer")
    signer.rotate()
    copy = tmp_path / "auditor"
    copy.mkdir()
    (copy / "trusted.vkeys").write_bytes((tmp_path / "signer" / "trusted.vkeys").read_bytes())
    auditor = SigningKeyStore(copy)
    assert auditor.verifiers() == signer.verifiers()
    assert not (copy / "signing.key").exists()


def test_no_key_material_in_repr_or_logs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    keys = SigningKeyStore.open(tmp_path)
    keys.rotate()
    keys.sign(TEXT)
    private = (tmp_path / "signing.key").read_bytes()
    printed = repr(keys) + caplog.text
    assert keys.current().key_id.hex() in repr(keys)
    assert private.hex() not in printed
    assert private.decode("latin-1") not in printed
    assert caplog.records == []
