"""The history checker: what the vendors really applied (the sandboxes' journals) against what the PMS asked for.

It judges the service from the vendor side only. The PMS input is folded by a model written here, apart from the
service's stay saga: per reservation, events apply in delivery order, a revision not newer than the last applied one
is ignored, a checkout or cancellation ends the stay for good. A journal entry is matched to its stay by its label:
the service labels a credential ``lis-`` + the first 16 hex digits of SHA-256 over ``tenant/region/lock|stay|seq``,
where ``seq`` is the revision that issued it, so every revision the reservation ever had is a candidate.

The verdict, per property, at the end of the journal:

* ``missing`` — a lock of an active stay holds no live credential of that stay;
* ``duplicates`` — it holds more than one (each extra one counts);
* ``wrong_window`` — the live credential's validity is not the stay's (an offline passcode's may be wider, to whole
  hours: it opens at most an hour before the stay, or no later than when it was issued for a stay under way, and ends
  at or less than an hour after the stay's end);
* ``wrong_kind`` — its kind is not the one the PMS asked for;
* ``unrevoked`` — a live credential of a stay that ended, or of a lock the stay no longer holds;
* ``orphans`` — a live credential with the service's label prefix that no stay of the input owns;
* ``shared_cards`` — two different stays held the same card number at the same time, anywhere on the property (a
  blocklisted card keeps opening an offline lock until its window ends, so it counts until then).

Its model of the PMS input is its own, except for two facts it takes from the domain: which locks serve a room
(``PropertyDirectory.locks_for_stay``) and how times are read in the property's zone (``validity_in``, tested on
its own in ``tests/unit/test_stay_times.py``). It does not model the intake's dead letters (an unknown property,
``all_or_nothing``): feed it the events the service was meant to apply.

``python -m tests.checker`` runs it against running sandboxes (see ``--help``).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from adapters.postgres.directory import load_directory_file, property_from_file
from app.domain.directory import PropertyDirectory
from app.domain.reservation import ENDING_EVENTS, ReservationEvent
from app.domain.stay_times import PropertyTimes
from app.topic_io import read_topic

LABEL_PREFIX = "lis-"
HOUR_MS = 3_600_000
PROBLEMS = ("duplicates", "missing", "unrevoked", "wrong_window", "wrong_kind", "orphans", "shared_cards")


@dataclass(frozen=True)
class Wanted:
    """An active stay's due credential on one lock."""

    stay: str
    lock_id: str
    window: tuple[int, int]  # epoch ms
    kind: str


@dataclass
class Applied:
    """One credential as the journal tells its life: issued at ``since``, revoked at ``until`` (None: live)."""

    vendor: str
    lock_id: str
    credential: str
    kind: str
    label: str
    window: tuple[int, int]
    secret: str | None
    since: int
    until: int | None = None  # when it was revoked (None: live)
    opens_until: int | None = None  # when it really stops opening: a blocklisted card only at its window's end
    offline: bool = False  # an offline passcode, whose window is the stay's widened to whole hours


@dataclass
class Report:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PROBLEMS, 0))
    details: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not any(self.counts.values())

    def add(self, problem: str, detail: str, count: int = 1) -> None:
        self.counts[problem] += count
        self.details.append(f"{problem}: {detail}")

    def summary(self, lines: int = 10) -> str:
        counts = " ".join(f"{name}={value}" for name, value in self.counts.items())
        return "\n".join([counts, *self.details[:lines]])


@dataclass
class _Stay:
    sequence: int
    ended: bool
    rooms: tuple[str, ...] = ()
    window: tuple[int, int] | None = None
    kind: str = "passcode"
    revisions: set[int] = field(default_factory=set)
    rooms_ever: set[str] = field(default_factory=set)


def label_of(tenant: str, region: str, lock_id: str, stay: str, sequence: int) -> str:
    """The label the service gives the credential that revision ``sequence`` of ``stay`` issued on the lock."""
    key = f"{tenant}/{region}/{lock_id}|{stay}|{sequence}"
    return LABEL_PREFIX + hashlib.sha256(key.encode()).hexdigest()[:16]


def fold_reservations(events: Iterable[ReservationEvent], times: PropertyTimes | None) -> dict[str, _Stay]:
    """Each reservation's final state, in delivery order; windows read in the property's time zone."""
    stays: dict[str, _Stay] = {}
    for event in events:
        current = stays.get(event.stay_id)
        if current is not None:
            current.revisions.add(event.sequence)
            current.rooms_ever.update(event.rooms)
            if event.sequence <= current.sequence or current.ended:
                continue
        revisions = current.revisions if current else {event.sequence}
        rooms_ever = current.rooms_ever if current else set(event.rooms)
        if event.type in ENDING_EVENTS:
            stays[event.stay_id] = _Stay(event.sequence, True, revisions=revisions, rooms_ever=rooms_ever)
        else:
            try:
                validity = event.validity_in(times)
            except ValueError:
                continue  # times that do not fit the property's zone: the service dead-letters the event
            window = (_ms(validity.starts_at.timestamp()), _ms(validity.ends_at.timestamp()))
            stays[event.stay_id] = _Stay(event.sequence, False, event.rooms, window, event.credential_kind.value,
                                         revisions, rooms_ever)
    return stays


def replay_journal(directory: PropertyDirectory, journals: Mapping[str, list[dict[str, Any]]]) -> list[Applied]:
    """Every credential the journals show on the directory's locks, with its life span; ``journals`` by vendor."""
    locks = {(lock.vendor, lock.vendor_lock_id): lock.lock_id for lock in directory.locks}
    applied: list[Applied] = []
    live: dict[tuple[str, str, str], Applied] = {}
    for vendor, entries in journals.items():
        for entry in sorted(entries, key=lambda e: e["seq"]):
            lock_id = locks.get((vendor, str(entry["lock"])))
            if lock_id is None:
                continue  # another property's lock
            key = (vendor, lock_id, str(entry["credential"]))
            at, window = int(entry["at"]), (int(entry["validFrom"]), int(entry["validUntil"]))
            if entry["op"] == "issue":
                if key in live:  # a live id issued again: the old credential is gone
                    live[key].until = live[key].opens_until = at
                live[key] = Applied(vendor, lock_id, key[2], entry["kind"], entry["label"], window,
                                    entry.get("secret"), at, offline=bool(entry.get("offline")))
                applied.append(live[key])
            elif key in live and entry["op"] == "update":
                live[key].window = window
            elif key in live:
                gone = live.pop(key)
                gone.until = at
                gone.opens_until = max(at, gone.window[1]) if entry.get("blocklisted") else at
    return applied


def check(directory: PropertyDirectory, events: Iterable[ReservationEvent],
          journals: Mapping[str, list[dict[str, Any]]]) -> Report:
    """The verdict for one property (see the module docstring)."""
    events = [e for e in events if (e.tenant, e.property) == (directory.tenant, directory.property)]
    stays = fold_reservations(events, directory.times)
    owners = _owners(directory, stays)
    applied = replay_journal(directory, journals)
    report = Report()
    wanted = {(w.stay, w.lock_id): w for w in _wanted(directory, stays)}
    held: dict[tuple[str, str], list[Applied]] = defaultdict(list)
    for credential in applied:
        if credential.until is not None:
            continue
        owner = owners.get((credential.lock_id, credential.label))
        if owner is None:
            if credential.label.startswith(LABEL_PREFIX):
                report.add("orphans", f"{credential.lock_id} holds {credential.label}, which no stay owns")
        elif (owner, credential.lock_id) not in wanted:
            report.add("unrevoked", f"{credential.lock_id} still holds {owner}'s {credential.label}")
        else:
            held[(owner, credential.lock_id)].append(credential)
    for key, due in wanted.items():
        _judge(report, due, held.get(key, []))
    _shared_cards(report, applied, owners)
    return report


def _judge(report: Report, due: Wanted, held: list[Applied]) -> None:
    where = f"{due.lock_id} for {due.stay}"
    if not held:
        report.add("missing", f"{where}: no live credential")
        return
    if len(held) > 1:
        report.add("duplicates", f"{where}: {[c.label for c in held]}", len(held) - 1)
    for credential in held:
        if not _window_fits(credential, due.window):
            report.add("wrong_window", f"{where}: {credential.window}, the stay is {due.window}")
        if credential.kind != due.kind:
            report.add("wrong_kind", f"{where}: {credential.kind}, the PMS asked for {due.kind}")


def _window_fits(credential: Applied, stay: tuple[int, int]) -> bool:
    """The stay's own window; for an offline passcode, the stay's widened by less than an hour on each side (its
    start no later than the stay's start, or than the moment it was issued for a stay already under way)."""
    if not credential.offline:
        return credential.window == stay
    (start, end), due_start = credential.window, max(stay[0], credential.since)
    return stay[0] - HOUR_MS < start <= due_start and stay[1] <= end < stay[1] + HOUR_MS


def _shared_cards(report: Report, applied: list[Applied], owners: Mapping[tuple[str, str], str]) -> None:
    by_number: dict[str, list[tuple[Applied, str]]] = defaultdict(list)
    for credential in applied:
        if credential.kind == "card" and credential.secret:
            by_number[credential.secret].append((credential, owners.get((credential.lock_id, credential.label),
                                                                        credential.label)))
    for number, lives in by_number.items():
        for index, (first, first_owner) in enumerate(lives):
            for second, second_owner in lives[index + 1:]:
                if first_owner != second_owner and _overlap(first, second):
                    report.add("shared_cards", f"card {number}: {first_owner} and {second_owner}")


def _overlap(first: Applied, second: Applied) -> bool:
    first_end = first.opens_until if first.opens_until is not None else float("inf")
    second_end = second.opens_until if second.opens_until is not None else float("inf")
    return first.since < second_end and second.since < first_end


def _wanted(directory: PropertyDirectory, stays: Mapping[str, _Stay]) -> list[Wanted]:
    due = []
    for stay_id, stay in stays.items():
        if stay.ended or stay.window is None:
            continue
        for lock in directory.locks_for_stay(stay.rooms):
            due.append(Wanted(stay_id, lock.lock_id, stay.window, stay.kind))
    return due


def _owners(directory: PropertyDirectory, stays: Mapping[str, _Stay]) -> dict[tuple[str, str], str]:
    """(lock id, label) -> the stay whose revision issued it, over every lock the stay's events ever named."""
    owners = {}
    for stay_id, stay in stays.items():
        for lock in directory.locks_for_stay(tuple(stay.rooms_ever)):
            for sequence in stay.revisions:
                label = label_of(directory.tenant, directory.region, lock.lock_id, stay_id, sequence)
                owners[(lock.lock_id, label)] = stay_id
    return owners


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


async def fetch_journals(urls: Mapping[str, str]) -> dict[str, list[dict[str, Any]]]:
    """Each sandbox's journal (``GET /sandbox/journal``), by vendor."""
    async with httpx.AsyncClient(timeout=httpx.Timeout(60)) as http:
        answers = {vendor: await http.get(f"{url.rstrip('/')}/sandbox/journal") for vendor, url in urls.items()}
    for answer in answers.values():
        answer.raise_for_status()
    return {vendor: answer.json() for vendor, answer in answers.items()}


async def read_reservations(bootstrap: str, topic: str) -> list[ReservationEvent]:
    """Every valid PMS event on ``topic`` in delivery order (a malformed one is the dead-letter topic's business)."""
    events = []
    for record in await read_topic(bootstrap, topic):
        try:
            events.append(ReservationEvent.model_validate_json(record.value))
        except ValueError:
            continue
    return events


def main(directory: Annotated[Path, typer.Option(help="The lock directory file (as `lis directory load` reads it).")],
         journal: Annotated[list[str], typer.Option(help="vendor=URL of a running sandbox; repeat per vendor.")],
         bootstrap: Annotated[str, typer.Option(envvar="KAFKA_BOOTSTRAP_SERVERS", help="Kafka bootstrap servers.")],
         topic: Annotated[str, typer.Option(help="The PMS topic, with its prefix if any.")] = "pms.reservations",
         ) -> None:
    """Check the sandboxes' journals against the PMS topic, property by property; exit 1 on any problem."""
    urls = dict(item.split("=", 1) for item in journal)
    journals = asyncio.run(fetch_journals(urls))
    events = asyncio.run(read_reservations(bootstrap, topic))
    failed = False
    for tenant in load_directory_file(directory):
        for prop in tenant.get("properties", []):
            found = property_from_file(tenant, prop)
            report = check(found, events, journals)
            typer.echo(f"{found.tenant}/{found.property}: {report.summary()}")
            failed = failed or not report.clean
    raise typer.Exit(1 if failed else 0)


if __name__ == "__main__":
    typer.run(main)
