"""The Wiegand encoder simulator's site: zones, the cards written, the blocklist, encoders' card slots, and the
journal of what the doors really applied (:mod:`adapters.sandbox_journal`): a card written is issued on each of its
zones; a card blocklisted is revoked there with ``"blocklisted": true`` (the locks are offline: they refuse it only
once a later card carries the blocklist to them, or when it expires). The credential is the card's 24 data bits.

No I/O here: ``sandbox`` feeds it commands received on the pseudo-terminals and sends back what it answers. It checks
what a real encoder would (field formats, known zones, live card numbers, one card at a time per encoder)
independently of the adapter, so a broken adapter fails against it.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from adapters.sandbox_faults import everywhere
from adapters.sandbox_journal import DoorCredential, Journal

FIRMWARE = "SIM-1.0"
LIST_PAGE = 4  # journal entries per LS reply: keeps lines well under the frame limit
_HEX6 = re.compile(r"[0-9A-F]{6}")
_TIME = re.compile(r"[0-9]{12}")
_TIME_FORMAT = "%y%m%d%H%M%S"  # UTC
_NAME = re.compile(r"[A-Za-z0-9._-]{1,32}")
FAULT_MODES = {
    "latency": everywhere,
    "timeout": everywhere,
    "malformed": everywhere,
    "checksum": everywhere,
    "framing": everywhere,
    "gateway_offline": everywhere,
    "gateway_busy": {"EN", "RD"}.__contains__,
    "no_card": {"EN", "RD"}.__contains__,
    "duplicate": "EN".__eq__,
    # A serial line has no 5xx: ``malformed`` is its executed-then-garbled answer.
    "executed_then_timeout": {"EN", "BL"}.__contains__,
    "duplicate_delivery": {"EN", "BL"}.__contains__,
}


def raw26(data: int) -> int:
    """The H10301 bits of 24 data bits, computed here on bit strings, apart from the adapter's arithmetic."""
    bits = f"{data:024b}"
    leading = "1" if bits[:12].count("1") % 2 else "0"
    trailing = "0" if bits[12:].count("1") % 2 else "1"
    return int(leading + bits + trailing, 2)


class EncoderRefusal(Exception):
    """A command refused with ``ER|seq|<code>|<text>``."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(f"{code} {text}")
        self.code, self.text = code, text


@dataclass
class CardRecord:
    """A card the site's encoders wrote, as the encoders' journal (``LS``) keeps it."""

    data: int  # the 24 data bits
    start: str  # YYMMDDhhmmss UTC, as on the wire
    end: str
    zones: tuple[str, ...]
    label: str
    carried: tuple[int, ...] = ()  # the blocklist written onto this card
    blocklisted: bool = False

    def view(self) -> dict[str, Any]:
        return {
            "data": f"{self.data:06X}",
            "facilityCode": self.data >> 16,
            "cardNumber": self.data & 0xFFFF,
            "raw": f"{raw26(self.data):07X}",
            "validFrom": self.start,
            "validUntil": self.end,
            "zones": list(self.zones),
            "label": self.label,
            "blocklisted": self.blocklisted,
            "carriesBlocklist": [f"{data:06X}" for data in self.carried],
        }

    def held(self, zone: str) -> DoorCredential:
        """This card as the journal names it on the locks of ``zone``."""
        return DoorCredential(
            lock=zone,
            credential=f"{self.data:06X}",
            kind="card",
            label=self.label,
            valid_from_ms=_epoch_ms(self.start),
            valid_until_ms=_epoch_ms(self.end),
            secret=str(self.data & 0xFFFF),
        )


@dataclass
class EncoderSite:
    """Every encoder of one site shares its cards and blocklist, as they share the site's key server."""

    zones: frozenset[str]
    write_latency_s: float = 0.005  # long enough that two commands on one encoder really overlap
    clock: Callable[[], float] = time.time
    cards: list[CardRecord] = field(default_factory=list)  # every card written, oldest first
    slots: dict[str, CardRecord | None] = field(default_factory=dict)  # the card lying on each encoder
    calls: Counter[str] = field(default_factory=Counter)
    busy_rejections: int = 0
    _busy: set[str] = field(default_factory=set)
    journal: Journal = field(init=False)

    def __post_init__(self) -> None:
        self.journal = Journal(self.clock)

    async def handle(self, encoder: str, command: str, args: tuple[str, ...]) -> tuple[str, ...]:
        """The reply fields after ``OK|seq|<command>``; EncoderRefusal for ``ER``."""
        self.calls[command] += 1
        if command == "ST":
            return FIRMWARE, "1", str(len(self._pending()))
        if command == "EN":
            return await self._encode(encoder, args)
        if command == "RD":
            return self._read_back(encoder)
        if command == "BL":
            return self._blocklist(args)
        if command == "LS":
            return self._list(args)
        raise EncoderRefusal("ARG", f"unknown command {command}")

    def live(self, data: int) -> CardRecord | None:
        """The live (written, not blocklisted, not expired) card with these data bits."""
        now = self._now()
        return next((c for c in self.cards if c.data == data and not c.blocklisted and c.end > now), None)

    async def _encode(self, encoder: str, args: tuple[str, ...]) -> tuple[str, ...]:
        if len(args) != 5 or not _HEX6.fullmatch(args[0]) or not all(map(_TIME.fullmatch, args[1:3])):
            raise EncoderRefusal("ARG", "EN needs data6, from, until, zones, label")
        data, start, end, zones, label = int(args[0], 16), args[1], args[2], tuple(args[3].split("+")), args[4]
        if end <= start or not _NAME.fullmatch(label):
            raise EncoderRefusal("ARG", "until must be after from; label 1-32 of A-Za-z0-9._-")
        if unknown := [zone for zone in zones if zone not in self.zones]:
            raise EncoderRefusal("ZN", f"unknown zones {'+'.join(unknown)}")
        if self.live(data) is not None:
            raise EncoderRefusal("DUP", f"card {args[0]} is live")
        if encoder in self._busy:
            self.busy_rejections += 1
            raise EncoderRefusal("BSY", "writing another card")
        self._busy.add(encoder)
        try:
            await asyncio.sleep(self.write_latency_s)
        finally:
            self._busy.discard(encoder)
        card = CardRecord(data, start, end, zones, label, carried=tuple(c.data for c in self._pending()))
        self.cards.append(card)
        self.slots[encoder] = card
        for zone in zones:
            self.journal.record("issue", card.held(zone))
        return f"{raw26(data):07X}", str(len(card.carried))

    def _read_back(self, encoder: str) -> tuple[str, ...]:
        if encoder in self._busy:
            self.busy_rejections += 1
            raise EncoderRefusal("BSY", "writing a card")
        card = self.slots.get(encoder)
        if card is None:
            raise EncoderRefusal("NC", "no card on the encoder")
        view = card.view()
        return view["raw"], card.start, card.end, "+".join(card.zones), card.label, "+".join(view["carriesBlocklist"])

    def _blocklist(self, args: tuple[str, ...]) -> tuple[str, ...]:
        if len(args) != 1 or not _HEX6.fullmatch(args[0]):
            raise EncoderRefusal("ARG", "BL needs data6")
        card = self.live(int(args[0], 16))
        if card is None:
            raise EncoderRefusal("NF", f"no live card {args[0]}")
        card.blocklisted = True
        for zone in card.zones:
            self.journal.record("revoke", card.held(zone), blocklisted=True)
        return (str(len(self._pending())),)

    def _list(self, args: tuple[str, ...]) -> tuple[str, ...]:
        if len(args) != 2 or not args[1].isdecimal():
            raise EncoderRefusal("ARG", "LS needs zone and offset")
        zone, offset = args[0], int(args[1])
        if zone not in self.zones:
            raise EncoderRefusal("ZN", f"unknown zone {zone}")
        cards = [c for c in self.cards if zone in c.zones and self.live(c.data) is c]
        page = cards[offset : offset + LIST_PAGE]
        return str(len(cards)), ";".join(f"{c.data:06X},{c.start},{c.end},{c.label}" for c in page)

    def _pending(self) -> list[CardRecord]:
        """Blocklisted cards not yet expired: every new card carries them."""
        now = self._now()
        return [c for c in self.cards if c.blocklisted and c.end > now]

    def _now(self) -> str:
        return datetime.fromtimestamp(self.clock(), UTC).strftime(_TIME_FORMAT)


def _epoch_ms(wire_time: str) -> int:
    return int(datetime.strptime(wire_time, _TIME_FORMAT).replace(tzinfo=UTC).timestamp() * 1000)
