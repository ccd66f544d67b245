"""The evidence files ``lis readiness`` reads, and what each says about a scorecard row.

* the JUnit XML of the last full test run (``make test`` writes ``.var/reports/junit.xml``): a row proven by tests is
  met when no case of its test files failed in a run at most :data:`TEST_RUN_WINDOW` old and at least one passed (a
  skipped case — a vendor lacking a capability — is named, not counted); a case marked xfail makes it partial; a
  failed or errored case, or none passed, makes it missing;
* dated result files (coverage, mutation, conformance history, load baseline, HIL checklist), each judged against its
  own target and window.

Nothing is assumed: a file that is not there is a missing row with the command that would make it.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET  # our own pytest run's report  # nosec B405
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from app.readiness.scorecard import Finding, State

TEST_RUN_WINDOW = timedelta(days=7)
JUNIT = Path(".var/reports/junit.xml")


@dataclass(frozen=True)
class Case:
    file: str  # tests/e2e/test_x.py
    name: str  # test_y[param]
    outcome: str  # passed, failed, skipped
    xfail: bool  # marked xfail (expected to fail, passed or not)


@dataclass
class SuiteRun:
    date: datetime | None = None
    commit: str | None = None
    cases: list[Case] = field(default_factory=list)


def _case_file(classname: str) -> str:
    parts = classname.split(".")
    for index, part in enumerate(parts):
        if part.startswith("test_"):
            return "/".join(parts[: index + 1]) + ".py"
    return "/".join(parts) + ".py"


def read_junit(path: Path) -> SuiteRun | None:
    """The cases of pytest's JUnit XML (with the ``commit`` and ``xfail`` properties tests/conftest.py adds)."""
    if not path.is_file():
        return None
    root = ET.parse(path).getroot()  # our own pytest run's report  # nosec B314
    run = SuiteRun()
    for suite in [root] if root.tag == "testsuite" else list(root.iter("testsuite")):
        if suite.get("timestamp"):
            run.date = aware(suite.get("timestamp", ""))
        for prop in suite.findall("properties/property"):
            if prop.get("name") == "commit":
                run.commit = prop.get("value")
        for case in suite.iter("testcase"):
            skipped = case.find("skipped")
            marked = any(p.get("name") == "xfail" for p in case.findall("properties/property"))
            if case.find("failure") is not None or case.find("error") is not None:
                outcome = "failed"
            elif skipped is not None:
                outcome = "skipped"
                marked = marked or skipped.get("type") == "pytest.xfail"
            else:
                outcome = "passed"
            run.cases.append(Case(_case_file(case.get("classname", "")), case.get("name", ""), outcome, marked))
    return run


def run_problem(run: SuiteRun | None, files: list[str], now: datetime, junit: Path) -> Finding | None:
    """Why the last run cannot judge ``files`` (none, too old, one of them not run), or None."""
    source = ", ".join(files)
    if run is None:
        return Finding(State.MISSING, f"no test report at {junit}: run `make test`", source)
    date = run.date.date().isoformat() if run.date else None
    if run.date is None or now - run.date > TEST_RUN_WINDOW:
        return Finding(State.MISSING, f"the last test run ({date or 'undated'}) is older than "
                                      f"{TEST_RUN_WINDOW.days} days", source, date)
    ran = {case.file for case in run.cases}
    if absent := [file for file in files if file not in ran]:
        return Finding(State.MISSING, f"the last test run ran none of {', '.join(absent)}", source, date)
    return None


def case_verdict(cases: list[Case]) -> tuple[State, str]:
    """Missing when one failed or none passed; partial when one is marked xfail; skips are named, never passes."""
    failed = [case for case in cases if case.outcome == "failed"]
    passed = [case for case in cases if case.outcome == "passed"]
    skipped = [case for case in cases if case.outcome == "skipped" and not case.xfail]
    marked = [case for case in cases if case.xfail]
    also = f"; {len(skipped)} skipped as not applicable, e.g. {skipped[0].name}" if skipped else ""
    if failed:
        return State.MISSING, f"{len(failed)} of {len(cases)} failed, e.g. {failed[0].file}::{failed[0].name}"
    if not passed:
        return State.MISSING, f"none of {len(cases)} passed{also}"
    if marked:
        return State.PARTIAL, (f"{len(marked)} of {len(cases)} are marked xfail (known to fail sometimes), e.g. "
                               f"{marked[0].name}{also}")
    return State.MET, f"{len(passed)} tests passed{also}"


def judged_by_tests(run: SuiteRun | None, files: list[str], now: datetime, junit: Path, head: str | None
                    ) -> Finding:
    """The verdict of ``files``' cases in a recent run that ran each of them; a run of another commit than
    ``head`` is at most partial."""
    problem = run_problem(run, files, now, junit)
    if problem is not None or run is None:
        return problem or Finding(State.MISSING, "no test run", ", ".join(files))
    state, reason = case_verdict([case for case in run.cases if case.file in files])
    finding = Finding(state, reason, ", ".join(files), run.date.date().isoformat() if run.date else None)
    return of_commit(finding, run, head)


def of_commit(finding: Finding, run: SuiteRun, head: str | None) -> Finding:
    if head is None or run.commit is None or run.commit == head:
        return finding
    return capped(finding, f"the run tested commit {run.commit[:12]}, not HEAD {head[:12]}: run `make test` again")


def capped(finding: Finding, why: str) -> Finding:
    """At most partial: the tests show the part this repository can show, ``why`` names what they cannot."""
    if finding.state is not State.MET:
        return finding
    return Finding(State.PARTIAL, f"{finding.reason}; {why}", finding.source, finding.date, finding.count)


@dataclass(frozen=True)
class Dated:
    """The newest dated result file of a folder: its content, where it is (relative to the repository), its day."""

    result: dict[str, Any]
    source: str
    date: str


def newest_dated(root: Path, folder: Path) -> Dated | None:
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if not files:
        return None
    result = json.loads(files[-1].read_text())
    return Dated(result, str(files[-1].relative_to(root)), aware(result["date"]).date().isoformat())


def aware(stamp: str) -> datetime:
    """An ISO timestamp as an aware datetime; one without an offset (coverage's) is taken as UTC."""
    moment = datetime.fromisoformat(stamp)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def within(date: str, now: datetime, window: timedelta) -> bool:
    return now - aware(date) <= window


def placeholders(path: Path, marker: str) -> Finding | None:
    """Missing when ``path`` is absent or still holds ``marker`` (a contact or decision to fill in)."""
    if not path.is_file():
        return Finding(State.MISSING, f"{path} does not exist", str(path))
    count = path.read_text().count(marker)
    if count:
        return Finding(State.MISSING, f"{count} entries still say {marker!r}", str(path))
    return None


def not_built(what: str) -> Finding:
    return Finding(State.MISSING, f"not built: {what}", "—")
