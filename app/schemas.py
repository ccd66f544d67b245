"""Releasing event schemas into the catalogue (``schemas/``): JSON Schema generated from the pydantic models.

``lis schemas`` compares each subject's model with its latest released version; a changed model becomes the next
version, but only when it is BACKWARD compatible with every version released before (a consumer on the new schema
reads every record written with an old one), judged by ``jsoncompat``. A breaking change is refused with the versions
it breaks: it needs a new subject (a new topic or a new record type) instead. Released files are never rewritten; a
test fails when a model drifts from its latest version or a released file from its recorded digest.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from app.directory_file import DirectoryFile
from app.schema_registry import (
    CATALOGUE_DIR,
    TOPIC_SUBJECTS,
    Catalogue,
    CatalogueEntry,
    Subject,
    digest,
    load_catalogue,
)

SUBJECTS = (*TOPIC_SUBJECTS, Subject("directory", None, DirectoryFile))
SCHEMA_DIR = CATALOGUE_DIR


class SchemaIncompatible(Exception):
    """A model changed in a way that breaks records written with a released version of its subject."""


def render(model: type[BaseModel]) -> str:
    """The JSON Schema text of ``model`` as stored in ``schemas/`` (stable key order, trailing newline)."""
    return json.dumps(model.model_json_schema(mode="serialization"), indent=2, sort_keys=True) + "\n"


def backward_compatible(old: str, new: str) -> bool:
    """Whether a reader on schema ``new`` accepts every record valid under ``old`` (jsoncompat's deserializer
    role; the models forbid extra fields, so an added optional field is compatible and a new required one is not)."""
    import jsoncompat  # a development tool (the dev extra): releasing schemas is not the worker's business

    return bool(jsoncompat.check_compat(old, new, "deserializer"))


def breaking(catalogue: Catalogue, subject: str, text: str, folder: Path) -> list[int]:
    """The released versions of ``subject`` that schema ``text`` cannot read."""
    return [entry.version for entry in catalogue.versions(subject)
            if not backward_compatible((folder / entry.file).read_text(), text)]


def release_schemas(folder: Path = SCHEMA_DIR, subjects: tuple[Subject, ...] = SUBJECTS) -> list[CatalogueEntry]:
    """Release every subject whose model changed as its next version; the new entries. Nothing is written when any
    change is breaking (:class:`SchemaIncompatible` names them all)."""
    catalogue = load_catalogue(folder)
    changed: list[tuple[Subject, str]] = []
    for subject in subjects:
        text, latest = render(subject.model), catalogue.latest(subject.name)
        if latest is None or (folder / latest.file).read_text() != text:
            changed.append((subject, text))
    refused = [f"{subject.name} breaks versions {versions}" for subject, text in changed
               if (versions := breaking(catalogue, subject.name, text, folder))]
    if refused:
        raise SchemaIncompatible("; ".join(refused))
    released = []
    for subject, text in changed:
        latest = catalogue.latest(subject.name)
        entry = CatalogueEntry(id=max((e.id for e in catalogue.schemas), default=0) + 1, subject=subject.name,
                               version=latest.version + 1 if latest else 1, topic=subject.topic, sha256=digest(text))
        folder.mkdir(parents=True, exist_ok=True)
        (folder / entry.file).write_text(text)
        catalogue.schemas.append(entry)
        released.append(entry)
    if released:
        (folder / "catalogue.json").write_text(catalogue.model_dump_json(indent=2) + "\n")
    return released
