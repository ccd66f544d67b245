"""C2SP tlog-checkpoint and signed-note behaviour of app.audit.checkpoint.

The published vectors are golang.org/x/mod/sumdb/note's: PeterNeumann's key and signed note (package doc and
note_test.go), and EnochRoot's co-signature by the key Go's GenerateKey derives from an all-zero seed. Ed25519
is deterministic, so signing must reproduce them byte for byte.
"""

from __future__ import annotations

import base64
import re

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from app.audit.checkpoint import (
    BadSignatureError,
    Checkpoint,
    MalformedNoteError,
    NoteError,
    UnknownKeyError,
    VerifierKey,
    add_signature,
    format_checkpoint,
    open_checkpoint,
    parse_checkpoint,
    parse_vkey,
    sign_note,
    verify_note,
)
from app.audit.merkle import leaf_hash

PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_LINE = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_LINE = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)

ORIGIN = "lis.example/audit"
CHECKPOINT = Checkpoint(ORIGIN, 42, leaf_hash(b"root"))


def peter_private_key() -> Ed25519PrivateKey:
    # PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || 32-byte seed)>; the base64 part may hold '+'.
    material = base64.b64decode(PETER_SKEY.split("+", 4)[4])
    assert material[0] == 1
    return Ed25519PrivateKey.from_private_bytes(material[1:])


def enoch_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes(32))


def fresh_key(name: str = ORIGIN) -> tuple[Ed25519PrivateKey, VerifierKey]:
    private = Ed25519PrivateKey.generate()
    return private, VerifierKey(name, private.public_key())


# Published vectors


def test_signing_reproduces_the_published_go_note_byte_for_byte() -> None:
    assert sign_note(GO_TEXT, "PeterNeumann", peter_private_key()) == GO_TEXT + "\n" + PETER_LINE


def test_co_signing_reproduces_the_published_doubly_signed_go_note() -> None:
    note = sign_note(GO_TEXT, "PeterNeumann", peter_private_key())
    assert add_signature(note, "EnochRoot", enoch_private_key()) == GO_TEXT + "\n" + PETER_LINE + ENOCH_LINE


def test_published_vkeys_parse_and_print_back_unchanged() -> None:
    peter, enoch = parse_vkey(PETER_VKEY), parse_vkey(ENOCH_VKEY)
    assert (peter.name, peter.key_id.hex()) == ("PeterNeumann", "c74f20a3")
    assert peter.vkey == PETER_VKEY
    assert enoch.vkey == ENOCH_VKEY
    assert VerifierKey("PeterNeumann", peter_private_key().public_key()) == peter


def test_published_note_verifies_with_the_signers_that_are_trusted_and_ignores_the_others() -> None:
    note = GO_TEXT + "\n" + PETER_LINE + ENOCH_LINE
    peter, enoch = parse_vkey(PETER_VKEY), parse_vkey(ENOCH_VKEY)
    assert verify_note(note, [peter]).signers == (peter,)
    assert verify_note(note, [enoch]).signers == (enoch,)
    both = verify_note(note.encode(), [peter, enoch])
    assert both.text == GO_TEXT
    assert both.signers == (peter, enoch)


# Checkpoint text


def test_checkpoint_text_is_origin_size_and_base64_root_each_on_its_own_line() -> None:
    root_b64 = base64.b64encode(CHECKPOINT.root_hash).decode()
    assert format_checkpoint(CHECKPOINT) == f"{ORIGIN}\n42\n{root_b64}\n"


@pytest.mark.parametrize(
    "checkpoint",
    [
        pytest.param(CHECKPOINT, id="plain"),
        pytest.param(Checkpoint(ORIGIN, 0, leaf_hash(b"")), id="empty-tree"),
        pytest.param(Checkpoint(ORIGIN, 2**63, leaf_hash(b"x"), ("ext one", "— ext two")), id="extensions"),
    ],
)
def test_checkpoint_round_trips_through_text(checkpoint: Checkpoint) -> None:
    assert parse_checkpoint(format_checkpoint(checkpoint)) == checkpoint


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(f"{ORIGIN}\n42\n", id="no-root"),
        pytest.param(f"{ORIGIN}\n42\n{'A' * 43}=", id="no-final-newline"),
        pytest.param(f"{ORIGIN}\n042\n{'A' * 43}=\n", id="leading-zero"),
        pytest.param(f"{ORIGIN}\n-1\n{'A' * 43}=\n", id="negative-size"),
        pytest.param(f"{ORIGIN}\n+4\n{'A' * 43}=\n", id="signed-size"),
        pytest.param(f"{ORIGIN}\n\uff14\uff12\n{'A' * 43}=\n", id="non-ascii-digits"),
        pytest.param(f"\n42\n{'A' * 43}=\n", id="empty-origin"),
        pytest.param(f"{ORIGIN}\n42\n{'A' * 42}==\n", id="root-too-short"),
        pytest.param(f"{ORIGIN}\n42\n{'A' * 43}\n", id="root-unpadded"),
        pytest.param(f"{ORIGIN}\n42\n{'A' * 42}B=\n", id="root-non-canonical"),
        pytest.param(f"{ORIGIN}\n42\n{'A' * 43}=\n\n", id="empty-extension"),
        pytest.param(f"{ORIGIN}\n42\n{'A' * 43}=\nbell\a\n", id="control-character"),
    ],
)
def test_malformed_checkpoint_text_is_refused(text: str) -> None:
    with pytest.raises(MalformedNoteError):
        parse_checkpoint(text)


# Signing and verifying


def test_signed_checkpoint_opens_with_its_vkey() -> None:
    private, verifier = fresh_key()
    note = sign_note(format_checkpoint(CHECKPOINT), ORIGIN, private)
    assert open_checkpoint(note, [parse_vkey(verifier.vkey)]) == CHECKPOINT


def test_signature_line_is_em_dash_space_name_space_base64_of_key_id_and_signature() -> None:
    private, verifier = fresh_key()
    note = sign_note(format_checkpoint(CHECKPOINT), ORIGIN, private)
    text, blank, line = note.partition("\n\n")
    assert (text + "\n", blank) == (format_checkpoint(CHECKPOINT), "\n\n")
    assert re.fullmatch(rf"\u2014 {re.escape(ORIGIN)} [A-Za-z0-9+/]+=*\n", line)
    assert line.encode()[:4] == b"\xe2\x80\x94 "
    blob = base64.b64decode(line.split(" ")[2])
    assert len(blob) == 4 + 64
    assert blob[:4] == verifier.key_id


@pytest.mark.parametrize("dash", ["-", "--", "\u2013", "\u2015", "\u2014\u2014"])
def test_a_signature_line_without_the_exact_em_dash_prefix_is_malformed(dash: str) -> None:
    private, verifier = fresh_key()
    note = sign_note(GO_TEXT, ORIGIN, private).replace("\u2014 ", f"{dash} ")
    with pytest.raises(MalformedNoteError):
        verify_note(note, [verifier])


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_any_single_flipped_bit_of_a_signed_checkpoint_is_refused(data: st.DataObject) -> None:
    private, verifier = fresh_key()
    note = bytearray(sign_note(format_checkpoint(CHECKPOINT), ORIGIN, private).encode())
    bit = data.draw(st.integers(0, len(note) * 8 - 1), label="bit")
    note[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(NoteError):
        verify_note(bytes(note), [verifier])


def test_a_tampered_signature_from_a_trusted_key_is_a_bad_signature() -> None:
    private, verifier = fresh_key()
    text, _, line = sign_note(GO_TEXT, ORIGIN, private).partition("\n\n")
    blob = bytearray(base64.b64decode(line.split(" ")[2]))
    blob[-1] ^= 0x01  # the signature, not the key id
    note = f"{text}\n\n\u2014 {ORIGIN} {base64.b64encode(blob).decode()}\n"
    with pytest.raises(BadSignatureError):
        verify_note(note, [verifier])


def test_a_tampered_text_is_a_bad_signature() -> None:
    private, verifier = fresh_key()
    note = sign_note(format_checkpoint(CHECKPOINT), ORIGIN, private).replace("\n42\n", "\n43\n")
    with pytest.raises(BadSignatureError):
        verify_note(note, [verifier])


def test_a_note_signed_only_by_unknown_keys_is_refused() -> None:
    private, _ = fresh_key()
    _, stranger = fresh_key()
    _, other_name = fresh_key("someone.else/log")
    note = sign_note(GO_TEXT, ORIGIN, private)
    with pytest.raises(UnknownKeyError):
        verify_note(note, [stranger, other_name])
    with pytest.raises(UnknownKeyError):
        verify_note(note, [])


def test_one_bad_signature_from_a_trusted_key_rejects_the_whole_note() -> None:
    old, old_verifier = fresh_key()
    new, new_verifier = fresh_key()
    good = sign_note(GO_TEXT, ORIGIN, old)
    forged = sign_note("another text\n", ORIGIN, new).partition("\n\n")[2]
    with pytest.raises(BadSignatureError):
        verify_note(good + forged, [old_verifier, new_verifier])


def test_rotation_keeps_old_checkpoints_verifiable_with_the_old_vkey() -> None:
    old, old_verifier = fresh_key()
    new, new_verifier = fresh_key()
    old_note = sign_note(format_checkpoint(CHECKPOINT), ORIGIN, old)
    later = Checkpoint(ORIGIN, 43, leaf_hash(b"next root"))
    new_note = sign_note(format_checkpoint(later), ORIGIN, new)
    assert old_verifier.key_id != new_verifier.key_id  # same name, the key id tells them apart
    trusted = [parse_vkey(old_verifier.vkey), parse_vkey(new_verifier.vkey)]
    assert open_checkpoint(old_note, trusted) == CHECKPOINT
    assert open_checkpoint(new_note, trusted) == later
    assert verify_note(old_note, trusted).signers == (old_verifier,)
    with pytest.raises(UnknownKeyError):
        verify_note(new_note, [old_verifier])
    with pytest.raises(UnknownKeyError):
        verify_note(old_note, [new_verifier])


def test_during_rotation_a_checkpoint_signed_by_both_keys_verifies_with_either() -> None:
    old, old_verifier = fresh_key()
    new, new_verifier = fresh_key()
    note = add_signature(sign_note(format_checkpoint(CHECKPOINT), ORIGIN, old), ORIGIN, new)
    assert verify_note(note, [old_verifier]).signers == (old_verifier,)
    assert verify_note(note, [new_verifier]).signers == (new_verifier,)
    assert verify_note(note, [new_verifier, old_verifier]).signers == (old_verifier, new_verifier)


# Malformed notes and keys


@pytest.mark.parametrize(
    "note",
    [
        pytest.param(GO_TEXT + PETER_LINE, id="no-blank-line"),
        pytest.param(GO_TEXT + "\n", id="no-signature"),
        pytest.param(GO_TEXT + "\n" + PETER_LINE.rstrip("\n"), id="no-final-newline"),
        pytest.param(GO_TEXT.replace("\n", "\r\n", 1) + "\n" + PETER_LINE, id="carriage-return"),
        pytest.param(GO_TEXT + "\n" + PETER_LINE.replace("Neumann ", "Neumann  "), id="double-space"),
        pytest.param(GO_TEXT + "\n" + PETER_LINE.replace("AM=", "AM"), id="unpadded-base64"),
        pytest.param(GO_TEXT + "\n" + PETER_LINE.replace("AM=", "AN="), id="non-canonical-base64"),
        pytest.param(GO_TEXT + "\n\u2014 PeterNeumann x08gow==\n", id="signature-too-short"),
        pytest.param(GO_TEXT + "\n" + "\u2014 x AAAAAAA=\n" * 101, id="too-many-signatures"),
    ],
)
def test_malformed_notes_are_refused(note: str) -> None:
    with pytest.raises(MalformedNoteError):
        verify_note(note, [parse_vkey(PETER_VKEY)])


def test_a_note_that_is_not_utf8_is_malformed() -> None:
    with pytest.raises(MalformedNoteError):
        verify_note(b"\xff" + (GO_TEXT + "\n" + PETER_LINE).encode(), [parse_vkey(PETER_VKEY)])


@pytest.mark.parametrize(
    "vkey",
    [
        pytest.param(PETER_VKEY.replace("c74f20a3", "c74f20a4"), id="wrong-key-id"),
        pytest.param(PETER_VKEY.replace("c74f20a3", "C74F20A3"), id="upper-case-id"),
        pytest.param(PETER_VKEY.replace("+ARpc", "+Apc"), id="truncated-key"),
        pytest.param(PETER_VKEY.replace("+ARpc", "+AhpC"), id="not-ed25519"),
        pytest.param("PeterNeumann+c74f20a3", id="no-key"),
        pytest.param("+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", id="no-name"),
        pytest.param("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", id="space-in-name"),
    ],
)
def test_malformed_vkeys_are_refused(vkey: str) -> None:
    with pytest.raises(MalformedNoteError):
        parse_vkey(vkey)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        pytest.param("no final newline", ORIGIN, id="no-final-newline"),
        pytest.param("", ORIGIN, id="empty-text"),
        pytest.param("tab\there\n", ORIGIN, id="control-character"),
        pytest.param(GO_TEXT, "two words", id="space-in-name"),
        pytest.param(GO_TEXT, "a+b", id="plus-in-name"),
        pytest.param(GO_TEXT, "", id="empty-name"),
    ],
)
def test_signing_refuses_what_could_not_be_verified(text: str, name: str) -> None:
    with pytest.raises(MalformedNoteError):
        sign_note(text, name, Ed25519PrivateKey.generate())
