"""`lis readiness` judges each scorecard row from planted evidence: rows flip between met, partial and missing as the
evidence does, and tiers are GO only in promotion order."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.devstack.mutation import code_digest
from app.readiness.checks import CHECKS
from app.readiness.evidence import judged_by_tests, read_junit
from app.readiness.report import markdown, readiness
from app.readiness.scorecard import ROWS, TIERS, Finding, Need, Row, State, highest_go, satisfies, tiers_go

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
ISSUE = "tests/e2e/test_issue_and_revoke.py"
CONTRACT = "tests/contract/test_lock_port_contract.py"
FAULTS = "tests/contract/test_lock_port_faults.py"


def _junit(root: Path, cases: list[tuple[str, str, str]], *, when: datetime = NOW, xfail: set[str] = frozenset()
           ) -> Path:
    """A JUnit report of ``(file, name, outcome)`` cases as pytest writes it (``xfail``: names marked xfail)."""
    body = []
    for file, name, outcome in cases:
        inner = {"failed": '<failure message="boom"/>', "skipped": '<skipped type="pytest.skip" message="no"/>',
                 "xfailed": '<skipped type="pytest.xfail" message="flaky"/>'}.get(outcome, "")
        props = '<properties><property name="xfail" value="flaky"/></properties>' if name in xfail else ""
        classname = file.removesuffix(".py").replace("/", ".")
        body.append(f'<testcase classname="{classname}" name="{name}" time="0.1">{props}{inner}</testcase>')
    path = root / ".var" / "reports" / "junit.xml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'<?xml version="1.0"?><testsuites><testsuite name="pytest" timestamp="{when.isoformat()}">'
                    f'<properties><property name="commit" value="{"a" * 40}"/></properties>{"".join(body)}'
                    "</testsuite></testsuites>")
    return path


def _judge(root: Path, **options: Any) -> dict[str, Any]:
    report = readiness(root, junit=root / ".var" / "reports" / "junit.xml", conformance=root / "conformance",
                       now=options.pop("now", NOW), wiegand_used=options.pop("wiegand_used", False))
    return report


def _row(report: dict[str, Any], item_start: str) -> dict[str, Any]:
    (row,) = [row for row in report["rows"] if row["item"].startswith(item_start)]
    return row


def _plant(root: Path, relative: str, content: Any) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content))


def test_with_no_evidence_every_row_is_missing_with_its_reason_and_no_tier_is_go(tmp_path: Path) -> None:
    report = _judge(tmp_path)
    assert {row["state"] for row in report["rows"]} == {"missing"}
    assert all(row["reason"] for row in report["rows"])
    assert report["highest_go"] is None
    assert not any(verdict["go"] for verdict in report["tiers"].values())
    assert "run `make test`" in _row(report, "Issue saga")["reason"]


def test_a_row_proven_by_tests_flips_with_the_last_run(tmp_path: Path) -> None:
    passing = [(ISSUE, "test_keys_are_issued", "passed"), (ISSUE, "test_keys_are_revoked", "passed")]
    _junit(tmp_path, passing)
    row = _row(_judge(tmp_path), "Issue saga")
    assert (row["state"], row["date"]) == ("met", "2026-12-03")
    assert row["tiers"]["MVP-Internal"]["satisfied"]

    _junit(tmp_path, [*passing[:1], (ISSUE, "test_keys_are_revoked", "failed")])
    row = _row(_judge(tmp_path), "Issue saga")
    assert row["state"] == "missing"
    assert "1 of 2 failed" in row["reason"]
    assert not row["tiers"]["MVP-Internal"]["satisfied"]

    _junit(tmp_path, [*passing[:1], (ISSUE, "test_keys_are_revoked", "skipped")])
    row = _row(_judge(tmp_path), "Issue saga")
    assert row["state"] == "met", "a case skipped as not applicable neither passes nor fails the row"
    assert "1 skipped" in row["reason"]
    _junit(tmp_path, [(ISSUE, "test_keys_are_revoked", "skipped")])
    assert "none of 1 passed" in _row(_judge(tmp_path), "Issue saga")["reason"]

    _junit(tmp_path, passing, xfail={"test_keys_are_revoked"})
    assert _row(_judge(tmp_path), "Issue saga")["state"] == "partial"
    _junit(tmp_path, [*passing[:1], (ISSUE, "test_keys_are_revoked", "xfailed")])
    assert _row(_judge(tmp_path), "Issue saga")["state"] == "partial"

    _junit(tmp_path, passing, when=NOW - timedelta(days=8))
    assert "older than 7 days" in _row(_judge(tmp_path), "Issue saga")["reason"]

    _junit(tmp_path, [("tests/unit/test_other.py", "test_x", "passed")])
    assert "ran none of" in _row(_judge(tmp_path), "Issue saga")["reason"]


def test_the_multi_vendor_tier_needs_two_vendors_none_of_whose_contract_cases_failed(tmp_path: Path) -> None:
    cases = [(CONTRACT, f"test_issue[{vendor}]", "passed") for vendor in ("ttlock", "salto")]
    cases += [(FAULTS, "test_timeout[ttlock-timeout]", "passed"), (FAULTS, "test_clock[salto-clock_checked]",
                                                                      "skipped")]
    _junit(tmp_path, cases)
    row = _row(_judge(tmp_path), "At least one vendor adapter")
    assert (row["state"], row["count"]) == ("met", 2), "a vendor's skipped case (a capability it lacks) is no failure"
    assert row["tiers"]["GA-Multi-Vendor"]["satisfied"]

    _junit(tmp_path, [*cases, (CONTRACT, "test_revoke[salto]", "failed")])
    row = _row(_judge(tmp_path), "At least one vendor adapter")
    assert (row["state"], row["count"]) == ("met", 1)
    assert "salto: 1 of 3 failed" in row["reason"]
    assert row["tiers"]["MVP-Internal"]["satisfied"]
    assert not row["tiers"]["GA-Multi-Vendor"]["satisfied"]

    _junit(tmp_path, cases[:2])
    assert "ran none of tests/contract/test_lock_port_faults.py" in _row(_judge(tmp_path), "At least one")["reason"]
    _junit(tmp_path, cases, xfail={"test_issue[ttlock]", "test_issue[salto]"})
    assert _row(_judge(tmp_path), "At least one vendor adapter")["state"] == "partial"


def test_a_run_of_another_commit_than_the_one_checked_out_is_at_most_partial(tmp_path: Path) -> None:
    run = read_junit(_junit(tmp_path, [(ISSUE, "test_keys_are_issued", "passed")]))
    junit = tmp_path / ".var" / "reports" / "junit.xml"
    assert judged_by_tests(run, [ISSUE], NOW, junit, "a" * 40).state is State.MET
    other = judged_by_tests(run, [ISSUE], NOW, junit, "b" * 40)
    assert other.state is State.PARTIAL
    assert f"tested commit {'a' * 12}, not HEAD {'b' * 12}" in other.reason


def test_a_row_whose_files_did_not_all_run_is_missing(tmp_path: Path) -> None:
    _junit(tmp_path, [("tests/e2e/test_issue_and_revoke.py", "test_a", "passed")])
    row = _row(_judge(tmp_path), "Revoke saga")
    assert row["state"] == "missing"
    assert "ran none of tests/e2e/test_worker_restart.py" in row["reason"]


def test_a_row_whose_proof_lies_outside_the_repository_is_at_most_partial(tmp_path: Path) -> None:
    _junit(tmp_path, [("tests/unit/test_dashboards.py", "test_x", "passed")])
    row = _row(_judge(tmp_path), "SRE dashboards")
    assert row["state"] == "partial"
    assert "deployment" in row["reason"]
    assert row["tiers"]["MVP-Internal"]["satisfied"]
    assert not row["tiers"]["MVP-GA"]["satisfied"]


def test_the_mutation_row_reads_the_report_its_target_and_whether_it_is_of_this_code(tmp_path: Path) -> None:
    report = {"date": "2026-12-02T10:00:00+00:00", "code_sha256": code_digest(), "mutants": 100, "equivalent": 2,
              "score": 0.9, "target": 0.85, "untriaged": []}
    _plant(tmp_path, "docs/evidence/mutation/report.json", report)
    assert _row(_judge(tmp_path), "Mutation")["state"] == "met"
    _plant(tmp_path, "docs/evidence/mutation/report.json", {**report, "score": 0.8})
    assert _row(_judge(tmp_path), "Mutation")["state"] == "missing"
    _plant(tmp_path, "docs/evidence/mutation/report.json", {**report, "untriaged": ["m1"]})
    assert "untriaged" in _row(_judge(tmp_path), "Mutation")["reason"]
    _plant(tmp_path, "docs/evidence/mutation/report.json", {**report, "code_sha256": "0" * 64})
    assert "other code" in _row(_judge(tmp_path), "Mutation")["reason"]


def _coverage(domain: tuple[int, int], rest: tuple[int, int] | None, stamp: str = "2026-12-02T10:00:00"
              ) -> dict[str, Any]:
    def summary(covered: int, total: int) -> dict[str, dict[str, int]]:
        return {"summary": {"covered_branches": covered, "num_branches": total, "covered_lines": covered,
                            "num_statements": total}}
    files = {"app/domain/stay.py": summary(*domain)} | ({"app/cli/x.py": summary(*rest)} if rest else {})
    return {"meta": {"timestamp": stamp}, "files": files}


def test_coverage_is_partial_on_the_domain_alone_and_met_on_the_whole_suite_at_its_targets(tmp_path: Path) -> None:
    _plant(tmp_path, ".var/reports/coverage-domain.json", _coverage((97, 100), None))
    assert _row(_judge(tmp_path), "Coverage")["state"] == "partial"
    _plant(tmp_path, ".var/reports/coverage-domain.json", _coverage((94, 100), None))
    assert "94.0 % branch" in _row(_judge(tmp_path), "Coverage")["reason"]
    _plant(tmp_path, ".var/reports/coverage-domain.json", _coverage((97, 100), None, "2026-11-01T10:00:00"))
    assert "days ago" in _row(_judge(tmp_path), "Coverage")["reason"]
    _plant(tmp_path, ".var/reports/coverage.json", _coverage((96, 100), (86, 100)))
    assert _row(_judge(tmp_path), "Coverage")["state"] == "met"
    _plant(tmp_path, ".var/reports/coverage.json", _coverage((96, 100), (80, 100)))
    assert _row(_judge(tmp_path), "Coverage")["state"] == "partial"
    _plant(tmp_path, ".var/reports/coverage.json", _coverage((90, 100), (90, 100)))
    assert _row(_judge(tmp_path), "Coverage")["state"] == "missing"
    _plant(tmp_path, ".var/reports/coverage.json", _coverage((96, 100), (86, 100), "2026-11-01T10:00:00"))
    assert "days ago" in _row(_judge(tmp_path), "Coverage")["reason"]


def _history(tmp_path: Path, runs: list[tuple[str, str, bool]]) -> None:
    lines = [json.dumps({"run": run, "vendor": vendor, "green": green}) for run, vendor, green in runs]
    _plant(tmp_path, "conformance/history.jsonl", "\n".join(lines) + "\n")


def test_conformance_needs_three_green_nights_in_a_row_per_vendor_the_last_recent(tmp_path: Path) -> None:
    nights = ["20261201T020000Z", "20261202T020000Z", "20261203T020000Z"]
    _history(tmp_path, [(night, "ttlock", True) for night in nights])
    assert _row(_judge(tmp_path), "Vendor sandbox conformance")["state"] == "met"
    _history(tmp_path, [(night, "ttlock", True) for night in nights] + [(nights[-1], "salto", False)])
    assert _row(_judge(tmp_path), "Vendor sandbox conformance")["state"] == "missing"
    _history(tmp_path, [(f"20261203T0{hour}0000Z", "ttlock", True) for hour in range(3)])
    assert _row(_judge(tmp_path), "Vendor sandbox conformance")["state"] == "missing", "three runs, one night"
    _history(tmp_path, [(night, "ttlock", True) for night in nights])
    assert _row(_judge(tmp_path, now=NOW + timedelta(days=3)), "Vendor sandbox conformance")["state"] == "missing"
    _history(tmp_path, [(night, "ttlock", True) for night in ("20261110T020000Z", "20261120T020000Z", nights[-1])])
    assert _row(_judge(tmp_path), "Vendor sandbox conformance")["state"] == "missing", "three nights, not in a row"
    _history(tmp_path, [(nights[-1], "ttlock", False), *[(night, "ttlock", True) for night in nights]])
    assert _row(_judge(tmp_path), "Vendor sandbox conformance")["state"] == "missing", "the newest run is red"
    _plant(tmp_path, "conformance/history.jsonl", "")
    assert "no conformance history" in _row(_judge(tmp_path), "Vendor sandbox conformance")["reason"]


def test_load_hil_and_pen_test_results_flip_with_their_dates_and_outcomes(tmp_path: Path) -> None:
    load = {"date": "2026-12-01T10:00:00+00:00", "regressions": [], "tolerance": 0.1, "generator": "k6"}
    _plant(tmp_path, "docs/evidence/load/2026-12-01T1000Z.json", load)
    assert _row(_judge(tmp_path), "k6 load")["state"] == "met"
    _plant(tmp_path, "docs/evidence/load/2026-12-02T1000Z.json", {**load, "generator": "python"})
    assert _row(_judge(tmp_path), "k6 load")["state"] == "partial"
    _plant(tmp_path, "docs/evidence/load/2026-12-03T1000Z.json", {**load, "regressions": ["throughput down"]})
    assert _row(_judge(tmp_path), "k6 load")["state"] == "missing"

    checks = [{"name": "encode", "ok": True}, {"name": "parity", "ok": True}]
    hil = {"date": "2026-12-01T10:00:00+00:00", "port": "/dev/ttyUSB0", "simulator": False, "checks": checks}
    _plant(tmp_path, "docs/evidence/hil/2026-12-01T1000Z.json", hil)
    assert _row(_judge(tmp_path), "HIL")["state"] == "met"
    assert _row(_judge(tmp_path, now=NOW + timedelta(days=14)), "HIL")["state"] == "missing"
    _plant(tmp_path, "docs/evidence/hil/2026-12-02T1000Z.json", {**hil, "simulator": True, "port": "pty"})
    assert _row(_judge(tmp_path), "HIL")["state"] == "partial"

    pentest = {"date": "2026-11-20", "findings": [{"title": "SSRF", "severity": "high", "status": "open"}]}
    _plant(tmp_path, "docs/security/pentest/2026-11-20.json", pentest)
    assert "SSRF" in _row(_judge(tmp_path), "Penetration")["reason"]
    _plant(tmp_path, "docs/security/pentest/2026-11-20.json", {**pentest, "findings": [
        {"title": "SSRF", "severity": "high", "status": "fixed"}]})
    assert _row(_judge(tmp_path), "Penetration")["state"] == "met"


def test_a_document_with_contacts_left_to_fill_in_keeps_its_row_missing(tmp_path: Path) -> None:
    _plant(tmp_path, "docs/VENDOR_ESCALATION.md", "| TTLock | TO FILL IN |\n| Salto | TO FILL IN |\n")
    assert "2 entries" in _row(_judge(tmp_path), "Vendor escalation")["reason"]
    _plant(tmp_path, "docs/VENDOR_ESCALATION.md", "| TTLock | +1 555 0100 |\n")
    assert _row(_judge(tmp_path), "Vendor escalation")["state"] == "met"


def test_tiers_are_go_only_in_promotion_order_and_wiegand_counts_only_when_used() -> None:
    met = {row.key: Finding(State.MET, "ok", "x", count=3) for row in ROWS}
    assert highest_go(tiers_go(met)) == TIERS[-1]
    only_hil = {**met, "hil": Finding(State.MISSING, "none", "x")}
    assert highest_go(tiers_go(only_hil)) == "GA-Multi-Vendor"
    assert highest_go(tiers_go(only_hil, wiegand_used=True)) == "MVP-Internal"
    first_blocked = {**met, "issue_saga": Finding(State.PARTIAL, "some", "x")}
    blocking = tiers_go(first_blocked)
    assert highest_go(blocking) is None
    assert blocking["MVP-Internal"] == ["Issue saga (reservation.confirmed → key) end-to-end"]
    assert satisfies(Need.PARTIAL, Finding(State.PARTIAL, "", ""))
    assert not satisfies(Need.TWO, Finding(State.MET, "", "", count=1))
    assert satisfies(Need.NOTHING, Finding(State.MISSING, "", ""))


def test_a_tier_is_go_only_when_every_tier_before_it_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.readiness import report as report_module
    from app.readiness import scorecard

    only_ga = Row("Test", "asked of MVP-GA alone", (Need.NOTHING, Need.MET, Need.NOTHING, Need.NOTHING, Need.NOTHING),
                  "pentest")
    rows = (next(row for row in ROWS if row.key == "lock_port"), only_ga)
    for module in (scorecard, report_module):
        monkeypatch.setattr(module, "ROWS", rows)
    monkeypatch.setattr(report_module, "CHECKS", {"lock_port": lambda ev: Finding(State.MET, "ok", "x"),
                                                  "pentest": lambda ev: Finding(State.MISSING, "none", "x")})
    tiers = _judge(tmp_path)["tiers"]
    assert tiers["MVP-Internal"]["go"]
    assert not tiers["MVP-GA"]["go"]
    assert tiers["GA-Multi-Vendor"]["blocking"] == []
    assert not tiers["GA-Multi-Vendor"]["go"], "GO on its own rows, yet MVP-GA before it is not"


def test_every_row_has_a_check() -> None:
    assert {row.key for row in ROWS} == set(CHECKS)
    assert len(ROWS) == len({row.item for row in ROWS})


def test_lis_readiness_writes_json_and_markdown_and_require_fails_a_tier_that_is_not_go(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["readiness", "--require", "MVP-Internal"])
    assert result.exit_code == 1, result.output
    assert "highest tier GO: none" in result.output
    written = json.loads((tmp_path / ".var" / "readiness" / "readiness.json").read_text())
    assert len(written["rows"]) == len(ROWS)
    assert (tmp_path / ".var" / "readiness" / "readiness.md").read_text() == markdown(written)
    assert CliRunner().invoke(cli, ["readiness", "--require", "Nope"]).exit_code == 2


def test_the_records_lis_hil_and_the_load_bench_write_are_what_readiness_reads(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.devstack.hil import Check, record_result
    from tests.benchmarks import ingress_bench

    now = datetime.now(UTC)
    record_result(tmp_path / "docs" / "evidence" / "hil", None, [Check("encode", True, "card 7")])
    hil = _row(_judge(tmp_path, now=now), "HIL")
    assert hil["state"] == "partial"
    assert "simulator" in hil["reason"]
    record_result(tmp_path / "docs" / "evidence" / "hil", "/dev/ttyUSB0", [Check("encode", False, "no answer")])
    assert "failed: encode" in _row(_judge(tmp_path, now=now + timedelta(seconds=1)), "HIL")["reason"]

    monkeypatch.setattr(ingress_bench, "EVIDENCE", tmp_path / "docs" / "evidence" / "load")
    run = {"ingress": {"generator": "k6", "rps": 500.0, "p99_ms": 30.0}, "bare_aiohttp": {"rps": 1000.0, "p99_ms": 5.0}}
    ingress_bench.write_dated_result(run, [], 0.1)
    assert _row(_judge(tmp_path, now=now), "k6 load")["state"] == "met"
