"""Every column of the migrated database is classified (docs/security/classification.yaml), nothing is classified
that the database lacks, and no column in clear is a guest's personal data."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest
import yaml

from app.devstack.stack import Stack

pytestmark = [pytest.mark.postgres]
MAP = yaml.safe_load((Path(__file__).resolve().parents[2] / "docs" / "security" / "classification.yaml").read_text())


async def test_every_column_of_the_database_is_classified_and_only_those(stack: Stack) -> None:
    conn = await asyncpg.connect(stack.admin_database_url)
    try:
        rows = await conn.fetch("SELECT table_name, column_name FROM information_schema.columns "
                                "WHERE table_schema = 'public'")
    finally:
        await conn.close()
    columns = {f"{row['table_name']}.{row['column_name']}" for row in rows}
    assert columns - set(MAP["columns"]) == set(), "classify these in docs/security/classification.yaml"
    assert set(MAP["columns"]) - columns == set(), "the database has no such columns any more"
    assert {name for name, kind in MAP["columns"].items() if kind == "personal"} == set()
