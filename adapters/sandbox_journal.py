"""The journal each vendor sandbox keeps of what it really applied to what opens a door, for the history checker.

An entry is written when a change takes effect on the door side, at that moment, in the service's terms:

* ``issue`` — the door starts opening for a credential; an issue of a credential id that is already live replaces it
  (a new PIN or card under the same id: the old one stops opening the door);
* ``update`` — the validity (or label) of a credential the door holds changes;
* ``revoke`` — the door stops opening for it (Wiegand: ``"blocklisted": true``, the card is on the blocklist, which
  offline locks learn only from a later card or its expiry).

A refused call writes nothing. An ambiguous-outcome fault writes what it applied (``duplicate_delivery``: twice when
the second delivery creates a second credential); a ``timeout`` that lands late writes when it lands. Served at
``GET /sandbox/journal`` as a JSON list, oldest first, each entry::

    {"seq": 1, "at": <epoch ms>, "op": "issue", "lock": "<vendor_lock_id>", "credential": "<vendor's id>",
     "kind": "passcode" | "mobile_key" | "card", "label": "lis-…", "validFrom": <epoch ms>, "validUntil": <epoch ms>,
     "secret": "<PIN, card number or mobile-key receiver>" | null}

with ``"offline": true`` on an offline passcode (TTLock's algorithmic codes, which the lock checks without its
gateway; their window is the stay's widened to whole hours).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web

JournalOp = Literal["issue", "update", "revoke"]
DoorKind = Literal["passcode", "mobile_key", "card"]


@dataclass(frozen=True)
class DoorCredential:
    """A credential as a door holds it: its lock (``vendor_lock_id``), the vendor's id of it, the service's kind
    name, its label, validity (epoch ms UTC) and secret."""

    lock: str
    credential: str
    kind: DoorKind
    label: str
    valid_from_ms: int
    valid_until_ms: int
    secret: str | None
    offline: bool = False  # an offline passcode: the lock checks it by itself (its window is whole hours)


class Journal:
    """The changes one sandbox applied to its doors, numbered in apply order and stamped by the sandbox's clock."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._entries: list[dict[str, Any]] = []

    def record(self, op: JournalOp, held: DoorCredential, *, blocklisted: bool = False) -> None:
        """Append one change that has just taken effect on the door."""
        entry: dict[str, Any] = {
            "seq": len(self._entries) + 1,
            "at": int(self._clock() * 1000),
            "op": op,
            "lock": held.lock,
            "credential": held.credential,
            "kind": held.kind,
            "label": held.label,
            "validFrom": held.valid_from_ms,
            "validUntil": held.valid_until_ms,
            "secret": held.secret,
        }
        if blocklisted:
            entry["blocklisted"] = True
        if held.offline:
            entry["offline"] = True
        self._entries.append(entry)

    @contextmanager
    def changes(self, door: Callable[[], Iterable[DoorCredential]]) -> Iterator[None]:
        """Journal the difference that the enclosed (synchronous) mutation makes to ``door()``, what opens the doors
        concerned: a credential appearing is issued, one whose secret changes is issued again, one whose window or
        label changes is updated, one disappearing is revoked."""
        before = {(held.lock, held.credential): held for held in door()}
        yield
        after = {(held.lock, held.credential): held for held in door()}
        for key, held in after.items():
            previous = before.get(key)
            if previous is None or previous.secret != held.secret:
                self.record("issue", held)
            elif previous != held:
                self.record("update", held)
        for key, held in before.items():
            if key not in after:
                self.record("revoke", held)

    def view(self) -> list[dict[str, Any]]:
        """Every entry, oldest first, as ``GET /sandbox/journal`` answers them."""
        return [dict(entry) for entry in self._entries]


def add_journal_route(app: web.Application, journal: Journal) -> None:
    """``GET /sandbox/journal`` on a sandbox's admin API."""

    async def listed(request: web.Request) -> web.Response:
        return web.json_response(journal.view())

    app.router.add_get("/sandbox/journal", listed)
