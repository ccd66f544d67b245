"""Conformance report: the LockPort contract suite run per vendor against its sandbox, kept as a dated history.

``lis sandbox conformance`` runs pytest once per vendor in a subprocess (``LIS_CONTRACT_VENDORS=<vendor>``) with a
JUnit XML report, and writes under the reports folder (default ``.var/conformance/``):

* ``runs/<UTC stamp>/<vendor>.junit.xml`` — pytest's own report;
* ``runs/<UTC stamp>/result.json`` — the machine-readable result of the run (counts, failures, streaks);
* ``history.jsonl`` — one line per vendor per run, from which "green N runs in a row" is computed;
* ``SUMMARY.md`` — the human summary of the latest run (also kept as ``runs/<stamp>/summary.md``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET  # our own pytest run's JUnit report only  # nosec B405
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.registry import INSTALLED

VENDORS = INSTALLED.names  # each has its tests/contract/conftest.py HARNESSES entry
PROJECT_ROOT = Path(__file__).resolve().parents[2]
SHARED_SUITE = ("tests/contract/test_lock_port_contract.py", "tests/contract/test_lock_port_faults.py")
_RUN_TIMEOUT_S = 900


@dataclass(frozen=True)
class VendorResult:
    """One vendor's run of the contract suite."""

    vendor: str
    passed: int
    failed: int
    errors: int
    skipped: int
    duration_s: float
    exit_code: int
    failures: list[str] = field(default_factory=list)

    @property
    def green(self) -> bool:
        """Every test ran and passed (skips allowed), and pytest agreed."""
        return self.exit_code == 0 and self.failed == 0 and self.errors == 0 and self.passed > 0


@dataclass(frozen=True)
class ConformanceReport:
    run: str
    results: list[VendorResult]
    streaks: dict[str, int]
    run_dir: Path

    @property
    def green(self) -> bool:
        return all(result.green for result in self.results)

    @property
    def summary(self) -> str:
        """The human summary: one line per vendor, then the failures."""
        lines = [
            f"# LockPort conformance — run {self.run}",
            "",
            "| vendor | result | passed | failed | skipped | streak |",
            "|---|---|---|---|---|---|",
        ]
        for r in self.results:
            verdict = "green" if r.green else "RED"
            streak = f"green {self.streaks[r.vendor]} runs in a row" if r.green else "broken"
            lines.append(f"| {r.vendor} | {verdict} | {r.passed} | {r.failed + r.errors} | {r.skipped} | {streak} |")
        for r in self.results:
            lines += [f"- {r.vendor}: {name}" for name in r.failures]
        return "\n".join(lines) + "\n"


def suite_for(vendor: str) -> list[str]:
    """The contract files a vendor's run executes: the shared suite plus its own sandbox-fidelity tests."""
    own = f"tests/contract/test_{vendor}_sandbox.py"
    return [*SHARED_SUITE, *([own] if (PROJECT_ROOT / own).exists() else [])]


def run_pytest(vendor: str, junit: Path) -> int:
    """Run the vendor's contract suite in a subprocess; the exit code."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        *suite_for(vendor),
        "-q",
        "-p",
        "no:cacheprovider",
        f"--junitxml={junit}",
    ]
    env = {**os.environ, "LIS_CONTRACT_VENDORS": vendor}
    completed = subprocess.run(
        command,
        cwd=PROJECT_ROOT,
        env=env,
        timeout=_RUN_TIMEOUT_S,
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return completed.returncode


def read_junit(vendor: str, junit: Path, exit_code: int) -> VendorResult:
    """Counts and failed test names from pytest's JUnit XML; a missing report counts as one error."""
    if not junit.exists():
        return VendorResult(vendor, 0, 0, 1, 0, 0.0, exit_code, ["pytest wrote no report"])
    root = ET.parse(junit).getroot()  # our own pytest run's report  # nosec B314
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    total = {key: sum(int(s.get(key, 0)) for s in suites) for key in ("tests", "failures", "errors", "skipped")}
    failures = [
        f"{case.get('classname')}::{case.get('name')}"
        for s in suites
        for case in s.iter("testcase")
        if case.find("failure") is not None or case.find("error") is not None
    ]
    return VendorResult(
        vendor=vendor,
        passed=total["tests"] - total["failures"] - total["errors"] - total["skipped"],
        failed=total["failures"],
        errors=total["errors"],
        skipped=total["skipped"],
        duration_s=sum(float(s.get("time", 0)) for s in suites),
        exit_code=exit_code,
        failures=failures,
    )


def streaks(history: Path, vendors: Sequence[str]) -> dict[str, int]:
    """Per vendor, how many of its latest runs in a row were green."""
    runs: dict[str, list[bool]] = {vendor: [] for vendor in vendors}
    if history.exists():
        for line in history.read_text().splitlines():
            entry = json.loads(line)
            if entry["vendor"] in runs:
                runs[entry["vendor"]].append(bool(entry["green"]))
    counted = {}
    for vendor, outcomes in runs.items():
        count = 0
        for green in reversed(outcomes):
            if not green:
                break
            count += 1
        counted[vendor] = count
    return counted


def run_conformance(
    reports_dir: Path,
    vendors: Sequence[str] = VENDORS,
    *,
    runner: Callable[[str, Path], int] = run_pytest,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ConformanceReport:
    """Run every vendor's contract suite with ``runner`` and write the dated report, history and summary."""
    stamp = now().strftime("%Y%m%dT%H%M%SZ")
    run_dir = reports_dir / "runs" / stamp
    run_dir.mkdir(parents=True, exist_ok=True)
    results = []
    history = reports_dir / "history.jsonl"
    for vendor in vendors:
        junit = run_dir / f"{vendor}.junit.xml"
        result = read_junit(vendor, junit, runner(vendor, junit))
        results.append(result)
        with history.open("a") as log:
            log.write(json.dumps({"run": stamp, "vendor": vendor, "green": result.green}) + "\n")
    report = ConformanceReport(run=stamp, results=results, streaks=streaks(history, vendors), run_dir=run_dir)
    document: dict[str, Any] = {
        "run": stamp,
        "green": report.green,
        "vendors": {
            r.vendor: {**asdict(r), "green": r.green, "greenStreak": report.streaks[r.vendor]} for r in results
        },
    }
    (run_dir / "result.json").write_text(json.dumps(document, indent=2) + "\n")
    (run_dir / "summary.md").write_text(report.summary)
    (reports_dir / "SUMMARY.md").write_text(report.summary)
    return report
