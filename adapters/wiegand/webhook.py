"""Events an encoder reports on its serial line, parsed into typed events; pure, no I/O.

An encoder has no callback URL: what it "pushes" are lines — a plain 6-hex line when a card is read at its reader
(the front desk checking a guest's card), and framed ``EV`` lines when a card is placed on it or taken off. The
encoder is wired to one desk, so its events are trusted like the desk itself; a card read is still checked for
H10301 parity by whoever acts on it (:func:`adapters.wiegand.mapping.decode_h10301` on the full 26 bits).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from adapters.wiegand.frames import Frame, PlainRead, parse_line
from adapters.wiegand.mapping import split_data


@dataclass(frozen=True)
class CardRead:
    """A card was read at the encoder's reader."""

    facility: int
    card: int


@dataclass(frozen=True)
class CardSlot:
    """A card was placed on the encoder (``in``) or taken off it (``out``)."""

    change: Literal["in", "out"]


EncoderEvent = CardRead | CardSlot


def event_of(parsed: Frame | PlainRead) -> EncoderEvent:
    """The event of a parsed line; ValueError for a line that is not an event (e.g. a reply)."""
    if isinstance(parsed, PlainRead):
        return CardRead(*split_data(parsed.data))
    if parsed.name == "EV" and parsed.fields[2:] == ("CARD", "IN"):
        return CardSlot("in")
    if parsed.name == "EV" and parsed.fields[2:] == ("CARD", "OUT"):
        return CardSlot("out")
    raise ValueError(f"not an encoder event: {'|'.join(parsed.fields)}")


def parse_event_line(line: bytes) -> EncoderEvent:
    """The event in one line off the serial port; ValueError (FrameError for noise) if it is not one."""
    return event_of(parse_line(line))
