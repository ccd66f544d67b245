"""The card encoder's line protocol (pure): plain converter lines and framed commands with a checksum.

9600 baud 8N1, every line ended by CR. Two kinds of line share the wire:

* **Plain** — the serial converter's own format: the 24 data bits of a card read at the encoder (facility code and
  card number, parity stripped) as 6 upper-case hex characters, e.g. ``01E240``.
* **Framed** — this service's extension for writing cards: ``@`` body ``*`` checksum, where the body is fields
  separated by ``|`` and the checksum is two upper-case hex digits of the XOR of the body's bytes (as in NMEA 0183),
  e.g. ``@ST|7*5D``. The first field names the command (or ``OK``/``ER`` for replies, ``EV`` for events), the
  second is the host's sequence number echoed by the reply (0 in events), so replies can be matched to requests.

Commands (host → encoder), each answered ``OK|seq|<cmd>|…`` or ``ER|seq|<code>|<text>``:

* ``ST`` — status: ``OK|seq|ST|<firmware>|<card present 0/1>|<blocklist entries pending>``.
* ``EN|seq|<data6>|<from>|<until>|<zones>|<label>`` — encode the card on the encoder: H10301 bits with parity,
  validity (``YYMMDDhhmmss`` UTC), zones joined by ``+``, our label, and the pending blocklist. Reply
  ``OK|seq|EN|<raw26 as 7 hex>|<blocklist entries carried>``.
* ``RD|seq`` — read the card back: ``OK|seq|RD|<raw7>|<from>|<until>|<zones>|<label>|<blocklist joined by +>``.
* ``BL|seq|<data6>`` — blocklist a card; the encoder writes the blocklist onto the next cards it encodes, and a lock
  that reads such a card refuses the blocklisted one from then on.
* ``LS|seq|<zone>|<offset>`` — the encoder's journal of live cards for a zone: ``OK|seq|LS|<total>|<entries>``,
  entries joined by ``;``, each ``<data6>,<from>,<until>,<label>``.

Events (encoder → host): ``EV|0|CARD|IN`` / ``EV|0|CARD|OUT`` when a card is placed or taken, and plain lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

EOL: Final = b"\r"
MAX_LINE: Final = 512  # longer lines are noise, not frames
_PLAIN = re.compile(r"[0-9A-F]{6}")
_FORBIDDEN = re.compile(r"[@*|\r\n]")


class FrameError(ValueError):
    """A line that is not a frame of this protocol (noise, a cut line, a foreign device)."""


class ChecksumError(FrameError):
    """A frame whose checksum does not match its body: corrupted on the wire."""


@dataclass(frozen=True)
class Frame:
    """A framed line: ``fields[0]`` is the command, reply or event name, ``fields[1]`` the sequence number."""

    fields: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.fields[0]

    @property
    def seq(self) -> int:
        return int(self.fields[1])


@dataclass(frozen=True)
class PlainRead:
    """A plain converter line: the 24 data bits of a card presented to the encoder's reader."""

    data: int


def checksum(body: str) -> str:
    """Two upper-case hex digits: the XOR of the body's bytes."""
    value = 0
    for byte in body.encode("ascii"):
        value ^= byte
    return f"{value:02X}"


def encode_frame(*fields: str) -> bytes:
    """One framed line, CR included; ValueError if a field would break the framing."""
    for field in fields:
        if _FORBIDDEN.search(field) or not field.isascii():
            raise ValueError(f"field {field!r} contains a framing character or non-ASCII")
    body = "|".join(fields)
    return f"@{body}*{checksum(body)}\r".encode("ascii")


def parse_line(line: bytes) -> Frame | PlainRead:
    """A line as received (CR optional); FrameError or ChecksumError if it is not one of this protocol's lines."""
    if len(line) > MAX_LINE:
        raise FrameError(f"a line of {len(line)} bytes is noise")
    try:
        text = line.rstrip(EOL).decode("ascii")
    except UnicodeDecodeError as err:
        raise FrameError(f"non-ASCII bytes in {line[:40]!r}") from err
    if _PLAIN.fullmatch(text):
        return PlainRead(int(text, 16))
    body, star, sent = text[1:].rpartition("*")
    if not text.startswith("@") or not star or len(sent) != 2:
        raise FrameError(f"not a frame: {text[:40]!r}")
    if sent != checksum(body):
        raise ChecksumError(f"checksum {sent} does not match {checksum(body)} of {body[:40]!r}")
    fields = tuple(body.split("|"))
    if len(fields) < 2 or not fields[1].isdecimal():
        raise FrameError(f"frame without a sequence number: {body[:40]!r}")
    return Frame(fields)
