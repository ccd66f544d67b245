"""docs/FAILURE_MODES.md stays true: every row's runbook exists and every test it names exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROWS = [line.split("|")[1:-1] for line in (ROOT / "docs" / "FAILURE_MODES.md").read_text().splitlines()
        if line.startswith("| ") and not line.startswith("| failure mode") and "---" not in line]
TEST_SOURCES = "\n".join(path.read_text() for path in (ROOT / "tests").rglob("test_*.py"))


def test_the_table_covers_the_failure_modes_the_service_must_handle() -> None:
    modes = {row[0].strip() for row in ROWS}
    assert {"vendor timeout", "vendor 5xx", "429 / rate limit", "token expiry", "gateway busy",
            "lock / gateway offline", "duplicate credential", "Kafka broker down / restart", "rebalance mid-saga",
            "worker SIGKILL", "PostgreSQL down", "poison message", "clock skew", "out-of-order PMS events"} <= modes


@pytest.mark.parametrize("row", ROWS, ids=[row[0].strip() for row in ROWS])
def test_each_row_names_an_existing_runbook_and_an_existing_test(row: list[str]) -> None:
    runbook = row[3].strip().strip("`")
    test = row[4].strip().strip("`")
    assert (ROOT / runbook).is_file(), f"missing runbook {runbook}"
    assert re.search(rf"def {re.escape(test)}\(", TEST_SOURCES), f"no test named {test}"
