"""Every field of every schema the service publishes is classified (docs/security/classification.yaml), nothing is
classified that no schema has, no event carries a secret in clear, and personal data only travels on the PMS's own
topic. The columns of the database are checked against the same map in tests/integration/test_data_classification.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
MAP = yaml.safe_load((ROOT / "docs" / "security" / "classification.yaml").read_text())


def latest_schemas() -> dict[str, dict[str, Any]]:
    """Each subject's latest released schema."""
    latest: dict[str, int] = {}
    for entry in json.loads((ROOT / "schemas" / "catalogue.json").read_text())["schemas"]:
        latest[entry["subject"]] = max(latest.get(entry["subject"], 0), entry["version"])
    return {subject: json.loads((ROOT / "schemas" / f"{subject}.v{version}.json").read_text())
            for subject, version in latest.items()}


def field_names(schema: dict[str, Any], defs: dict[str, Any], seen: set[str] | None = None) -> set[str]:
    """The names of every property at any depth (through $ref, anyOf and array items)."""
    seen = set() if seen is None else seen
    names: set[str] = set()
    if "$ref" in schema:
        ref = schema["$ref"].rsplit("/", 1)[-1]
        if ref in seen:
            return names
        return field_names(defs[ref], defs, seen | {ref})
    for nested in (*schema.get("anyOf", []), *schema.get("oneOf", []), *schema.get("allOf", [])):
        names |= field_names(nested, defs, seen)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            names |= field_names(schema[key], defs, seen)
    for name, prop in schema.get("properties", {}).items():
        names |= {name} | field_names(prop, defs, seen)
    return names


FIELDS = {subject: field_names(schema, schema.get("$defs", {})) for subject, schema in latest_schemas().items()}


def test_every_field_of_every_published_schema_is_classified_and_only_those() -> None:
    published = set().union(*FIELDS.values())
    assert published - set(MAP["fields"]) == set(), "classify these in docs/security/classification.yaml"
    assert set(MAP["fields"]) - published == set(), "no schema has these any more"
    assert set(MAP["fields"].values()) | set(MAP["columns"].values()) <= set(MAP["classes"])


def test_no_published_schema_carries_a_secret_in_clear() -> None:
    secrets = {name for name, kind in MAP["fields"].items() if kind == "secret"}
    assert {subject: names & secrets for subject, names in FIELDS.items() if names & secrets} == {}


def test_personal_data_travels_only_on_the_pms_topic() -> None:
    personal = {name for name, kind in MAP["fields"].items() if kind == "personal"}
    assert {subject for subject, names in FIELDS.items() if names & personal} == {"pms.reservations"}
