"""The schema catalogue (``schemas/``): released versions match their models and their recorded digests, every
subject's latest version reads every earlier one (BACKWARD), a breaking change is refused, the header ids resolve —
and lock events can never carry guest PII fields."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.domain.credential import Frozen
from app.domain.lock_event import LockAction, LockEvent
from app.schema_registry import (
    SCHEMA_HEADER,
    TOPIC_SUBJECTS,
    CatalogueEntry,
    Subject,
    digest,
    header_refusal,
    load_catalogue,
)
from app.schemas import SCHEMA_DIR, SUBJECTS, SchemaIncompatible, backward_compatible, release_schemas, render
from tests.builders import command

CATALOGUE = load_catalogue()
BY_NAME = {subject.name: subject for subject in SUBJECTS}


@pytest.mark.parametrize("subject", sorted(BY_NAME))
def test_each_model_is_its_subjects_latest_released_version(subject: str) -> None:
    latest = CATALOGUE.latest(subject)
    assert latest is not None, f"{subject} was never released: run `lis schemas`"
    assert (SCHEMA_DIR / latest.file).read_text() == render(BY_NAME[subject].model), (
        f"{subject}'s model changed since v{latest.version}: run `lis schemas` to release the next version")


@pytest.mark.parametrize("entry", CATALOGUE.schemas, ids=lambda entry: entry.file)
def test_a_released_schema_file_is_never_edited(entry: CatalogueEntry) -> None:
    assert entry.sha256 == digest((SCHEMA_DIR / entry.file).read_text()), f"{entry.file} changed after release"


def test_ids_are_unique_and_versions_count_up_without_holes() -> None:
    ids = [entry.id for entry in CATALOGUE.schemas]
    assert ids == list(range(1, len(ids) + 1))
    for subject in BY_NAME:
        assert [entry.version for entry in CATALOGUE.versions(subject)] == list(
            range(1, len(CATALOGUE.versions(subject)) + 1))
    assert {path.name for path in SCHEMA_DIR.glob("*.v*.json")} == {entry.file for entry in CATALOGUE.schemas}


@pytest.mark.parametrize("subject", sorted(BY_NAME))
def test_each_subjects_latest_version_reads_every_version_released_before(subject: str) -> None:
    versions = CATALOGUE.versions(subject)
    latest = (SCHEMA_DIR / versions[-1].file).read_text()
    broken = [entry.version for entry in versions[:-1]
              if not backward_compatible((SCHEMA_DIR / entry.file).read_text(), latest)]
    assert broken == [], f"{subject} v{versions[-1].version} cannot read versions {broken}"


def _with_field(schema: str, name: str, *, required: bool) -> str:
    changed = json.loads(schema)
    changed["properties"][name] = {"type": "string"}
    if required:
        changed["required"] = [*changed.get("required", []), name]
    return json.dumps(changed)


def test_the_compatibility_judge_tells_breaking_changes_from_safe_ones() -> None:
    """jsoncompat is alpha: pinned cases of the changes the catalogue must accept and refuse."""
    events = render(LockEvent)
    assert backward_compatible(events, events)
    assert backward_compatible(events, _with_field(events, "note", required=False)), "an optional field is safe"
    assert not backward_compatible(events, _with_field(events, "note", required=True)), "old records lack it"
    narrowed = json.loads(events)
    narrowed["$defs"]["LockEventType"]["enum"].remove("key.revoked")
    assert not backward_compatible(events, json.dumps(narrowed)), "old records hold the value dropped"


class Ticket(Frozen):
    number: int


class TicketWithNote(Frozen):
    number: int
    note: str | None = None


class TicketRenamed(Frozen):
    code: int


def test_release_adds_a_compatible_change_as_the_next_version_and_refuses_a_breaking_one(tmp_path: Path) -> None:
    (first,) = release_schemas(tmp_path, (Subject("tickets", "tickets", Ticket),))
    assert (first.id, first.version) == (1, 1)
    assert release_schemas(tmp_path, (Subject("tickets", "tickets", Ticket),)) == [], "nothing changed"
    (second,) = release_schemas(tmp_path, (Subject("tickets", "tickets", TicketWithNote),))
    assert (second.id, second.version, second.file) == (2, 2, "tickets.v2.json")
    with pytest.raises(SchemaIncompatible, match=r"tickets breaks versions \[1, 2\]"):
        release_schemas(tmp_path, (Subject("tickets", "tickets", TicketRenamed),))
    assert not (tmp_path / "tickets.v3.json").exists(), "a refused change writes nothing"


def test_a_record_header_resolves_to_its_subject_and_an_unknown_or_foreign_id_is_refused() -> None:
    events = CATALOGUE.latest("lock.events")
    assert events is not None
    assert header_refusal([(SCHEMA_HEADER, str(events.id).encode())], "lock.events") is None
    assert header_refusal(None, "lock.events") is None
    assert header_refusal({"other": b"x"}, "lock.events") is None
    assert "unknown schema id '999'" in (header_refusal({SCHEMA_HEADER: b"999"}, "lock.events") or "")
    assert "unknown schema id 'x'" in (header_refusal({SCHEMA_HEADER: b"x"}, "lock.events") or "")
    foreign = header_refusal([(SCHEMA_HEADER, str(events.id).encode())], "pms.reservations")
    assert foreign == f"schema id {events.id} is lock.events v{events.version}, a record of lock.events, not of " \
                      "pms.reservations"


def test_every_topic_subject_has_a_header_id() -> None:
    from app.schema_registry import schema_headers

    commands = CATALOGUE.latest("lock.commands")
    assert commands is not None
    assert schema_headers(command(LockAction.ISSUE))[SCHEMA_HEADER] == str(commands.id).encode()
    assert {subject.topic for subject in TOPIC_SUBJECTS} == {
        "pms.reservations", "lock.commands", "lock.events", "lock.audit", "ops.commands", "vendor.webhooks"}


DOWNSTREAM = sorted(set(BY_NAME) - {"pms.reservations", "directory", "vendor.webhooks"})  # inputs


@pytest.mark.parametrize("name", DOWNSTREAM)
def test_downstream_schemas_have_no_guest_identity_fields(name: str) -> None:
    properties = set(json.loads(render(BY_NAME[name].model))["properties"])
    assert not properties & {"guest_id", "guest_name", "name", "email", "phone"}


@pytest.mark.parametrize("name", ["lock.events", "lock.commands", "lock.audit"])
def test_guest_facing_schemas_carry_only_the_pseudonymous_guest_reference(name: str) -> None:
    assert "guest_ref" in json.loads(render(BY_NAME[name].model))["properties"]
