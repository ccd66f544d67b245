"""The schema registry: the versioned catalogue in ``schemas/`` and the schema id each record carries in its
``lis-schema-id`` Kafka header.

No maintained registry server installs on these machines (docs/SCHEMA_REGISTRY.md says how a Confluent-compatible
one would take the catalogue over), so the catalogue is the registry: ``schemas/catalogue.json`` gives every released
(subject, version) an id that never changes, the topic that carries it and the SHA-256 of its file; every released
version is kept. A producer stamps each record with the id of its model's latest version. A consumer refuses, as a
dead letter with the reason, a record whose id it does not know (a producer newer than this worker) or whose id
belongs to another topic; a record with no header (a producer from before the header, a hand-made one) is judged by
its value alone.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from app.domain.audit_record import AuditRecord
from app.domain.lock_event import LockCommand, LockEvent, RetryDue
from app.domain.lock_status import LockStatusEvent, VendorWebhook
from app.domain.master_shift import LockStepDone, ShiftCancelled, ShiftProgress, ShiftRequested
from app.domain.reconcile import LockReconciled, ReconcileLock
from app.domain.reservation import ReservationEvent

SCHEMA_HEADER = "lis-schema-id"
CATALOGUE_DIR = Path(__file__).resolve().parent.parent / "schemas"
Headers = Mapping[str, bytes] | Iterable[tuple[str, bytes]]


@dataclass(frozen=True)
class Subject:
    """One kind of record: its name in the catalogue, the topic that carries it (None: a file) and its model."""

    name: str
    topic: str | None
    model: type[BaseModel]


TOPIC_SUBJECTS = (
    Subject("pms.reservations", "pms.reservations", ReservationEvent),
    Subject("lock.commands", "lock.commands", LockCommand),
    Subject("lock.commands.retry-due", "lock.commands", RetryDue),
    Subject("lock.commands.reconcile", "lock.commands", ReconcileLock),
    Subject("lock.events", "lock.events", LockEvent),
    Subject("lock.events.lock-status", "lock.events", LockStatusEvent),
    Subject("lock.events.master-key-progress", "lock.events", ShiftProgress),
    Subject("lock.events.reconciled", "lock.events", LockReconciled),
    Subject("lock.audit", "lock.audit", AuditRecord),
    Subject("ops.commands.shift-requested", "ops.commands", ShiftRequested),
    Subject("ops.commands.shift-cancelled", "ops.commands", ShiftCancelled),
    Subject("ops.commands.lock-step-done", "ops.commands", LockStepDone),
    Subject("vendor.webhooks", "vendor.webhooks", VendorWebhook),
)


class CatalogueEntry(BaseModel):
    id: int
    subject: str
    version: int
    topic: str | None
    sha256: str

    @property
    def file(self) -> str:
        return f"{self.subject}.v{self.version}.json"


class Catalogue(BaseModel):
    """``schemas/catalogue.json``: entries in the order they were released (ids ascending)."""

    compatibility: Literal["BACKWARD"] = "BACKWARD"
    header: str = SCHEMA_HEADER
    schemas: list[CatalogueEntry] = []

    def latest(self, subject: str) -> CatalogueEntry | None:
        versions = [entry for entry in self.schemas if entry.subject == subject]
        return max(versions, key=lambda entry: entry.version) if versions else None

    def versions(self, subject: str) -> list[CatalogueEntry]:
        return sorted((entry for entry in self.schemas if entry.subject == subject), key=lambda entry: entry.version)


def load_catalogue(folder: Path = CATALOGUE_DIR) -> Catalogue:
    path = folder / "catalogue.json"
    return Catalogue.model_validate_json(path.read_text()) if path.exists() else Catalogue()


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@functools.cache
def _released() -> tuple[dict[type[BaseModel], bytes], dict[int, CatalogueEntry]]:
    catalogue = load_catalogue()
    stamps = {}
    for subject in TOPIC_SUBJECTS:
        latest = catalogue.latest(subject.name)
        if latest is None:
            raise LookupError(f"{subject.name} has no released schema in {CATALOGUE_DIR}: run `lis schemas`")
        stamps[subject.model] = str(latest.id).encode()
    return stamps, {entry.id: entry for entry in catalogue.schemas}


def schema_headers(model: BaseModel) -> dict[str, bytes]:
    """The header naming the schema ``model`` is written with (its subject's latest released version)."""
    return {SCHEMA_HEADER: _released()[0][type(model)]}


def kafka_headers(model: BaseModel) -> list[tuple[str, bytes]]:
    """:func:`schema_headers` the way aiokafka's producer takes them."""
    return list(schema_headers(model).items())


def header_refusal(headers: Headers | None, topic: str) -> str | None:
    """Why a record of ``topic`` (its name without the prefix) cannot be read with this worker's schemas, or None:
    no header, or a known id of a subject that topic carries (older versions included, which BACKWARD keeps
    readable)."""
    found = [value for name, value in (headers.items() if isinstance(headers, Mapping) else headers or ())
             if name == SCHEMA_HEADER]
    if not found:
        return None
    raw = found[-1]
    entries = _released()[1]
    entry = entries.get(int(raw)) if raw.isdigit() else None
    if entry is None:
        return (f"unknown schema id {raw.decode(errors='replace')!r} in header {SCHEMA_HEADER}: written by a newer "
                f"producer than this worker (it knows ids 1-{max(entries)}); replay it once the worker is upgraded")
    if entry.topic != topic:
        return f"schema id {entry.id} is {entry.subject} v{entry.version}, a record of {entry.topic}, not of {topic}"
    return None
