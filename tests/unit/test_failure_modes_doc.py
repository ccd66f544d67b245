"""docs/FAILURE_MODES.md stays true: every row's runbook exists, every test it names exists, that test's source
(its decorators and body) injects the row's fault, and the row names the alerts that tell on-call — each one defined
in the Prometheus rules — or says why there is none."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROWS = [line.split("|")[1:-1] for line in (ROOT / "docs" / "FAILURE_MODES.md").read_text().splitlines()
        if line.startswith("| ") and not line.startswith("| failure mode") and "---" not in line]
ALERTS = set(re.findall(r"- alert: (\w+)", (ROOT / "observability" / "prometheus" / "rules.yml").read_text()))
TEST_SOURCES = "\n".join(path.read_text() for path in (ROOT / "tests").rglob("test_*.py"))
_TOP_LEVEL = re.compile(r"^(?:async def|def|class|@|[A-Z_]+ =)", re.MULTILINE)


def source_of(name: str) -> str:
    """The decorators and body of the test function ``name``."""
    match = re.search(rf"^(?:async )?def {re.escape(name)}\(", TEST_SOURCES, re.MULTILINE)
    assert match, f"no test named {name}"
    start = match.start()
    while True:  # take the decorators above it
        previous = TEST_SOURCES.rfind("\n@", 0, start)
        between = TEST_SOURCES[previous + 1:start] if previous >= 0 else ""
        if previous < 0 or re.search(r"^(?:async def|def|class) ", between, re.MULTILINE):
            break
        start = previous + 1
    end = _TOP_LEVEL.search(TEST_SOURCES, match.end())
    return TEST_SOURCES[start:end.start() if end else None]


def test_the_table_covers_the_failure_modes_the_service_must_handle() -> None:
    modes = {row[0].strip() for row in ROWS}
    assert {"vendor timeout", "vendor 5xx", "429 / rate limit", "token expiry", "gateway busy",
            "lock / gateway offline", "duplicate credential", "Kafka broker down / restart", "rebalance mid-saga",
            "worker SIGKILL", "PostgreSQL down", "poison message", "clock skew", "out-of-order PMS events"} <= modes


@pytest.mark.parametrize("row", ROWS, ids=[row[0].strip() for row in ROWS])
def test_each_row_names_an_existing_runbook_and_a_test_that_injects_its_fault(row: list[str]) -> None:
    runbook, test, fault = (cell.strip().strip("`") for cell in row[3:6])
    assert (ROOT / runbook).is_file(), f"missing runbook {runbook}"
    assert re.search(rf"(?<!\w){re.escape(fault)}(?!\w)", source_of(test)), f"{test} does not inject {fault}"


def test_a_test_that_does_not_inject_the_rows_fault_is_caught() -> None:
    source = source_of("test_gateway_busy_is_ridden_out_by_quick_and_delayed_retries")
    assert "gateway_busy" in source
    assert "rate_limit" not in source, "the check would pass on a fault this test never injects"


@pytest.mark.parametrize("row", ROWS, ids=[row[0].strip() for row in ROWS])
def test_each_row_names_an_existing_alert_or_why_it_has_none(row: list[str]) -> None:
    cell = row[6].strip()
    named = re.findall(r"`(\w+)`", cell)
    if cell.startswith("no alert"):
        assert len(cell) > len("no alert: ") + 10, f"{row[0].strip()}: say why there is no alert"
    else:
        assert named, f"{row[0].strip()}: no alert named and no reason given"
    unknown = [name for name in named if name[0].isupper() and name not in ALERTS]
    assert not unknown, f"{row[0].strip()}: alerts not defined in observability/prometheus/rules.yml: {unknown}"
