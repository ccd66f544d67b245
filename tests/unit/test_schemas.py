"""The published event schemas match the models, and lock events can never carry guest PII fields."""

from __future__ import annotations

import json

import pytest

from app.schemas import SCHEMA_DIR, SCHEMAS, render


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_published_schema_matches_its_model(name: str) -> None:
    path = SCHEMA_DIR / f"{name}.json"
    assert path.exists(), f"{path} is missing: run `lis schemas`"
    assert path.read_text() == render(SCHEMAS[name]), f"{path} drifted from its model: run `lis schemas`"


@pytest.mark.parametrize("name", sorted(set(SCHEMAS) - {"pms.reservations.v1", "directory.v1"}))  # inputs
def test_downstream_schemas_have_no_guest_identity_fields(name: str) -> None:
    properties = set(json.loads(render(SCHEMAS[name]))["properties"])
    assert not properties & {"guest_id", "guest_name", "name", "email", "phone"}


@pytest.mark.parametrize("name", ["lock.events.v1", "lock.commands.v1", "lock.audit.v1"])
def test_guest_facing_schemas_carry_only_the_pseudonymous_guest_reference(name: str) -> None:
    assert "guest_ref" in json.loads(render(SCHEMAS[name]))["properties"]
