"""Signed tree heads: C2SP tlog-checkpoint bodies inside C2SP signed notes, signed with Ed25519.

A checkpoint note looks like::

    lis.example/audit
    20852163
    CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

    — lis.example/audit Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=

Key rotation keeps the key name and changes the key, hence the key id: verifiers are given every vkey
still trusted, signatures from keys they do not know are ignored (c2sp.org/signed-note), and a note is
accepted only when at least one known key signed it and no known key's signature fails.

    NoteError                 base of every refusal, a ValueError
    ├── MalformedNoteError    not a well-formed note, checkpoint or vkey
    ├── UnknownKeyError       no signature from any key the verifier trusts
    └── BadSignatureError     a trusted key's signature does not verify
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = b"\x01"  # signature type byte of c2sp.org/signed-note
SIGNATURE_PREFIX = "\u2014 "  # em dash, space
MAX_SIGNATURES = 100  # c2sp.org/signed-note: verifiers must accept at least 16
ROOT_HASH_SIZE = 32
_TREE_SIZE = re.compile(r"0|[1-9][0-9]*")


class NoteError(ValueError):
    """A signed note, checkpoint or verifier key was refused."""


class MalformedNoteError(NoteError):
    """The text is not a well-formed signed note, checkpoint or vkey."""


class UnknownKeyError(NoteError):
    """No signature on the note comes from a key the verifier trusts."""


class BadSignatureError(NoteError):
    """A trusted key's signature on the note does not verify."""


@dataclass(frozen=True)
class VerifierKey:
    """A named Ed25519 public key that notes are checked against."""

    name: str
    public_key: Ed25519PublicKey

    def __post_init__(self) -> None:
        _check_key_name(self.name)

    def __hash__(self) -> int:
        # cryptography's key objects compare by value but are unhashable; hash what they compare.
        return hash((self.name, self.public_key.public_bytes_raw()))

    @property
    def key_id(self) -> bytes:
        """SHA-256(name || 0x0A || 0x01 || public key)[:4], the id carried by each signature."""
        return key_id(self.name, self.public_key)

    @property
    def vkey(self) -> str:
        """The text encoding ``<name>+<hex key id>+<base64(0x01 || public key)>``."""
        material = base64.b64encode(ED25519 + self.public_key.public_bytes_raw()).decode()
        return f"{self.name}+{self.key_id.hex()}+{material}"


@dataclass(frozen=True)
class VerifiedNote:
    """The text of a note whose signatures checked out, and the trusted keys that signed it."""

    text: str
    signers: tuple[VerifierKey, ...]


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the log's origin, its size in leaves, its RFC 6962 root, optional extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for line in (self.origin, *self.extensions):
            if not line or "\n" in line or _has_control_character(line):
                raise MalformedNoteError(f"checkpoint line {line!r} is empty or holds a control character")
        if self.size < 0:
            raise MalformedNoteError(f"tree size cannot be negative: {self.size}")
        if len(self.root_hash) != ROOT_HASH_SIZE:
            raise MalformedNoteError(f"root hash has {len(self.root_hash)} bytes, want {ROOT_HASH_SIZE}")


def key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    """The 4-byte key id of an Ed25519 key: SHA-256(name || 0x0A || 0x01 || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public_key.public_bytes_raw()).digest()[:4]


def parse_vkey(vkey: str) -> VerifierKey:
    """Read ``<name>+<hex key id>+<base64(0x01 || public key)>``, checking the id against the key."""
    name, _, rest = vkey.partition("+")  # names never hold '+', the base64 part may
    hex_id, _, material = rest.partition("+")
    if not re.fullmatch(r"[0-9a-f]{8}", hex_id):
        raise MalformedNoteError(f"vkey {vkey!r} needs a name, an 8-digit hex key id and a key")
    raw = _b64decode(material, "vkey key material")
    if len(raw) != 1 + 32 or raw[:1] != ED25519:
        raise MalformedNoteError(f"vkey {vkey!r} is not an Ed25519 key")
    key = VerifierKey(name, Ed25519PublicKey.from_public_bytes(raw[1:]))
    if key.key_id.hex() != hex_id:
        raise MalformedNoteError(f"vkey {vkey!r} has key id {hex_id}, its key gives {key.key_id.hex()}")
    return key


def sign_note(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """The signed note: ``text``, a blank line and one signature line by ``name``'s key."""
    _check_text(text)
    return text + "\n" + _signature_line(text, name, private_key)


def add_signature(note: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """The signed ``note`` with one more signature line, e.g. from the next key during a rotation."""
    text, _ = _split(note)
    return note + _signature_line(text, name, private_key)


def verify_note(note: str | bytes, verifiers: Iterable[VerifierKey]) -> VerifiedNote:
    """Check a signed note against the trusted ``verifiers`` and return its text and signers."""
    text, lines = _split(note)
    trusted = {(v.name, v.key_id): v for v in verifiers}
    signers: list[VerifierKey] = []
    for line in lines:
        name, _, encoded = line.removeprefix(SIGNATURE_PREFIX).partition(" ")
        if not line.startswith(SIGNATURE_PREFIX) or not _is_key_name(name):
            raise MalformedNoteError(f"malformed signature line {line!r}")
        blob = _b64decode(encoded, "signature")
        if len(blob) < 5:  # a key id and at least one byte of signature
            raise MalformedNoteError(f"signature line {line!r} is too short")
        verifier = trusted.get((name, blob[:4]))
        if verifier is None or verifier in signers:  # unknown keys are ignored, repeats add nothing
            continue
        try:
            verifier.public_key.verify(blob[4:], text.encode())
        except InvalidSignature:
            raise BadSignatureError(f"signature by {name} ({blob[:4].hex()}) does not verify") from None
        signers.append(verifier)
    if not signers:
        raise UnknownKeyError("the note carries no signature from a trusted key")
    return VerifiedNote(text, tuple(signers))


def format_checkpoint(checkpoint: Checkpoint) -> str:
    """The checkpoint's note text: origin, decimal size, base64 root, extension lines, each newline-ended."""
    root = base64.b64encode(checkpoint.root_hash).decode()
    return "".join(f"{line}\n" for line in (checkpoint.origin, str(checkpoint.size), root, *checkpoint.extensions))


def parse_checkpoint(text: str) -> Checkpoint:
    """Read a checkpoint note text, refusing anything :func:`format_checkpoint` would not write."""
    if not text.endswith("\n"):
        raise MalformedNoteError("checkpoint text must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise MalformedNoteError("checkpoint needs an origin, a tree size and a root hash")
    origin, size, root, *extensions = lines
    if not _TREE_SIZE.fullmatch(size):
        raise MalformedNoteError(f"tree size {size!r} is not a decimal number without leading zeros")
    return Checkpoint(origin, int(size), _b64decode(root, "root hash"), tuple(extensions))


def open_checkpoint(note: str | bytes, verifiers: Iterable[VerifierKey]) -> Checkpoint:
    """Verify a signed checkpoint note and parse its text."""
    return parse_checkpoint(verify_note(note, verifiers).text)


def _signature_line(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    _check_key_name(name)
    signature = private_key.sign(text.encode())
    blob = key_id(name, private_key.public_key()) + signature
    return f"{SIGNATURE_PREFIX}{name} {base64.b64encode(blob).decode()}\n"


def _split(note: str | bytes) -> tuple[str, list[str]]:
    """The signed text (with its final newline) and the signature lines, split at the last blank line."""
    if isinstance(note, bytes):
        try:
            note = note.decode()
        except UnicodeDecodeError:
            raise MalformedNoteError("a note must be UTF-8") from None
    if _has_control_character(note):
        raise MalformedNoteError("a note must not hold control characters other than newline")
    blank = note.rfind("\n\n")
    if blank < 0 or not note.endswith("\n") or blank + 2 == len(note):
        raise MalformedNoteError("a note is text, a blank line and at least one signature line")
    lines = note[blank + 2 : -1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNoteError(f"a note may carry at most {MAX_SIGNATURES} signatures")
    return note[: blank + 1], lines


def _check_text(text: str) -> None:
    if not text.endswith("\n") or _has_control_character(text):
        raise MalformedNoteError("note text must end with a newline and hold no other control characters")


def _is_key_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def _check_key_name(name: str) -> None:
    if not _is_key_name(name):
        raise MalformedNoteError(f"key name {name!r} must be non-empty, without spaces or '+'")


def _has_control_character(text: str) -> bool:
    return any(c < " " and c != "\n" for c in text)


def _b64decode(text: str, what: str) -> bytes:
    """Strict standard base64: re-encoding must give the same text, so one value has one spelling."""
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise MalformedNoteError(f"{what} is not base64: {text!r}") from None
    if base64.b64encode(raw).decode() != text:
        raise MalformedNoteError(f"{what} is not canonical base64: {text!r}")
    return raw
