"""The conformance report: JUnit results per vendor, a dated machine-readable result, a history and its streaks."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.devstack.conformance import PROJECT_ROOT, VENDORS, run_conformance, suite_for
from tests.contract.conftest import HARNESSES

JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="{errors}"
failures="{failures}" skipped="2" tests="10" time="1.5"><testcase classname="tests.contract.test_x" name="test_ok"/>
{failed}</testsuite></testsuites>"""


def fake_runner(red: set[str]) -> Callable[[str, Path], int]:
    """Writes the JUnit file pytest would: ``red`` vendors get one failing test."""

    def run(vendor: str, junit: Path) -> int:
        failed = '<testcase classname="tests.contract.test_x" name="test_bad"><failure message="no"/></testcase>'
        broken = vendor in red
        junit.write_text(JUNIT.format(errors=0, failures=int(broken), failed=failed if broken else ""))
        return int(broken)

    return run


def clock(start: datetime) -> Callable[[], datetime]:
    moments = iter(start + timedelta(minutes=i) for i in range(100))
    return lambda: next(moments)


def test_the_report_covers_every_vendor_of_the_contract_suite() -> None:
    assert set(VENDORS) == set(HARNESSES)
    for vendor in VENDORS:
        assert all((PROJECT_ROOT / path).exists() for path in suite_for(vendor))


def test_each_run_writes_a_dated_result_and_summary_and_counts_green_runs_in_a_row(tmp_path: Path) -> None:
    now = clock(datetime(2031, 5, 4, 12, 0, tzinfo=UTC))
    run_conformance(tmp_path, VENDORS, runner=fake_runner(set()), now=now)
    run_conformance(tmp_path, VENDORS, runner=fake_runner({"salto"}), now=now)
    report = run_conformance(tmp_path, VENDORS, runner=fake_runner(set()), now=now)

    assert report.green
    assert report.streaks == {"ttlock": 3, "salto": 1, "wiegand": 3}
    result = json.loads((tmp_path / "runs" / "20310504T120200Z" / "result.json").read_text())
    assert result["vendors"]["ttlock"] | {"duration_s": 0} == {
        "vendor": "ttlock",
        "passed": 8,
        "failed": 0,
        "errors": 0,
        "skipped": 2,
        "duration_s": 0,
        "exit_code": 0,
        "failures": [],
        "green": True,
        "greenStreak": 3,
    }
    summary = (tmp_path / "SUMMARY.md").read_text()
    assert "| ttlock | green | 8 | 0 | 2 | green 3 runs in a row |" in summary
    assert len((tmp_path / "history.jsonl").read_text().splitlines()) == 9


def test_a_failing_vendor_is_red_with_its_failed_tests_named(tmp_path: Path) -> None:
    report = run_conformance(tmp_path, ["salto"], runner=fake_runner({"salto"}))

    assert not report.green
    [salto] = report.results
    assert (salto.failed, salto.failures) == (1, ["tests.contract.test_x::test_bad"])
    assert "| salto | RED |" in report.summary
    assert "- salto: tests.contract.test_x::test_bad" in report.summary


def test_a_run_that_wrote_no_report_is_an_error(tmp_path: Path) -> None:
    report = run_conformance(tmp_path, ["wiegand"], runner=lambda vendor, junit: 4)

    assert not report.green
    assert report.results[0].failures == ["pytest wrote no report"]
