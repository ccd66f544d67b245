"""One check per scorecard row: which evidence judges it, and what this repository cannot show (capped at partial).

A row the code does not build is missing with what is not built; a row whose proof lies outside the repository
(a production deployment, a privacy review, a filled-in rota) is capped at partial or missing with that reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from app.devstack.mutation import code_digest
from app.readiness.evidence import (
    Case,
    SuiteRun,
    capped,
    case_verdict,
    judged_by_tests,
    newest_dated,
    not_built,
    of_commit,
    placeholders,
    run_problem,
    within,
)
from app.readiness.scorecard import Finding, State

VENDORS = ("ttlock", "salto", "wiegand")
CONTRACT = ["tests/contract/test_lock_port_contract.py", "tests/contract/test_lock_port_faults.py"]
LOAD_WINDOW = timedelta(days=30)
HIL_WINDOW = timedelta(days=14)
NIGHTLY_WINDOW = timedelta(days=2)
COVERAGE_WINDOW = timedelta(days=14)
DOMAIN_BRANCH_TARGET = 95.0  # docs/TESTING_STRATEGY.md §10: app/domain ≥ 95 % branch
LINE_TARGET = 85.0  # … and everything else ≥ 85 % line


@dataclass(frozen=True)
class Evidence:
    root: Path  # the repository
    run: SuiteRun | None  # the last full test run
    now: datetime
    conformance: Path  # the conformance reports folder (its history.jsonl)
    junit: Path  # where the test run's report was looked for
    head: str | None = None  # the commit checked out, which the test run should have tested

    def tests(self, *files: str) -> Finding:
        return judged_by_tests(self.run, list(files), self.now, self.junit, self.head)


def _vendor_of(case: Case) -> str:
    """``test_x[ttlock]`` and ``test_y[ttlock-timeout]`` → ``ttlock``."""
    return case.name.rpartition("[")[2].rstrip("]").split("-")[0]


def vendor_contracts(ev: Evidence) -> Finding:
    """Met by each vendor none of whose contract cases failed and one at least passed; the count is of those."""
    problem = run_problem(ev.run, CONTRACT, ev.now, ev.junit)
    if problem is not None or ev.run is None:
        return problem or Finding(State.MISSING, "no test run", ", ".join(CONTRACT))
    cases = [case for case in ev.run.cases if case.file in CONTRACT]
    verdicts = {vendor: case_verdict([c for c in cases if _vendor_of(c) == vendor]) for vendor in VENDORS
                if any(_vendor_of(c) == vendor for c in cases)}
    met = [vendor for vendor, (state, _) in verdicts.items() if state is State.MET]
    partial = [vendor for vendor, (state, _) in verdicts.items() if state is State.PARTIAL]
    state = State.MET if met else State.PARTIAL if partial else State.MISSING
    others = "; ".join(f"{vendor}: {reason}" for vendor, (got, reason) in verdicts.items() if got is not State.MET)
    reason = f"{len(met)} vendors pass the contract suite against their sandboxes: {', '.join(met) or 'none'}"
    finding = Finding(state, reason + (f" ({others})" if others else ""), ", ".join(CONTRACT),
                      ev.run.date.date().isoformat() if ev.run.date else None, len(met))
    return of_commit(finding, ev.run, ev.head)


def _branch_and_line(files: dict[str, Any]) -> tuple[float, float]:
    """app/domain's branch coverage and the rest's line coverage, in per cent, from coverage's JSON ``files``."""
    dom = [f["summary"] for name, f in files.items() if name.startswith("app/domain/")]
    rest = [f["summary"] for name, f in files.items() if not name.startswith("app/domain/")]
    branch = 100.0 * sum(s["covered_branches"] for s in dom) / max(sum(s["num_branches"] for s in dom), 1)
    line = 100.0 * sum(s["covered_lines"] for s in rest) / max(sum(s["num_statements"] for s in rest), 1)
    return branch, line


def coverage(ev: Evidence) -> Finding:
    """Met by the whole suite's report at both targets; the domain's own report alone is at most partial."""
    reports = ev.root / ".var" / "reports"
    whole, domain = reports / "coverage.json", reports / "coverage-domain.json"
    path = whole if whole.is_file() else domain if domain.is_file() else None
    if path is None:
        return Finding(State.MISSING, "no coverage report: run `make coverage`", ".var/reports/coverage.json")
    data = json.loads(path.read_text())
    source, date = str(path.relative_to(ev.root)), data["meta"]["timestamp"][:10]
    branch, line = _branch_and_line(data["files"])
    if not within(data["meta"]["timestamp"], ev.now, COVERAGE_WINDOW):
        return Finding(State.MISSING, f"measured more than {COVERAGE_WINDOW.days} days ago: run `make coverage`",
                       source, date)
    if branch < DOMAIN_BRANCH_TARGET:
        return Finding(State.MISSING, f"app/domain {branch:.1f} % branch (≥ {DOMAIN_BRANCH_TARGET:.0f})", source,
                       date)
    if path == domain:
        return Finding(State.PARTIAL, f"app/domain {branch:.1f} % branch (`make coverage-domain`); the whole suite "
                                      "is not measured: run `make coverage`", source, date)
    reason = (f"whole suite: app/domain {branch:.1f} % branch (≥ {DOMAIN_BRANCH_TARGET:.0f}), the rest {line:.1f} % "
              f"line (≥ {LINE_TARGET:.0f})")
    return Finding(State.MET if line >= LINE_TARGET else State.PARTIAL, reason, source, date)


def mutation(ev: Evidence) -> Finding:
    path = ev.root / "docs" / "evidence" / "mutation" / "report.json"
    if not path.is_file():
        return Finding(State.MISSING, "no mutation report: run `make mutation`", str(path))
    report = json.loads(path.read_text())
    source, date = str(path.relative_to(ev.root)), report["date"][:10]
    if report["code_sha256"] != code_digest():
        return Finding(State.MISSING, "the report is of other code than app/domain holds now: run `make mutation`",
                       source, date)
    if report["untriaged"]:
        return Finding(State.MISSING, f"{len(report['untriaged'])} survivors untriaged", source, date)
    state = State.MET if report["score"] >= report["target"] else State.MISSING
    return Finding(state, f"{report['score']:.2%} of {report['mutants'] - report['equivalent']} non-equivalent "
                          f"mutants killed (target {report['target']:.0%})", source, date)


def green_nights(outcomes: list[tuple[datetime, bool]]) -> int:
    """How many consecutive calendar nights (UTC days) end the history green, each night's runs all green."""
    nights: dict[date, bool] = {}
    for stamp, green in sorted(outcomes):
        nights[stamp.date()] = nights.get(stamp.date(), True) and green
    count, expected = 0, None
    for night in sorted(nights, reverse=True):
        if not nights[night] or (expected is not None and night != expected):
            break
        count, expected = count + 1, night - timedelta(days=1)
    return count


def conformance(ev: Evidence) -> Finding:
    history = ev.conformance / "history.jsonl"
    lines = [line for line in history.read_text().splitlines() if line.strip()] if history.is_file() else []
    if not lines:
        return Finding(State.MISSING, "no conformance history: run `lis sandbox conformance` nightly", str(history))
    runs: dict[str, list[tuple[datetime, bool]]] = {}
    for line in lines:
        entry = json.loads(line)
        stamp = datetime.strptime(entry["run"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        runs.setdefault(entry["vendor"], []).append((stamp, bool(entry["green"])))
    last = max(stamp for outcomes in runs.values() for stamp, _ in outcomes)
    green = [vendor for vendor, outcomes in sorted(runs.items())
             if green_nights(outcomes) >= 3 and ev.now - max(outcomes)[0] <= NIGHTLY_WINDOW]
    state = State.MET if len(green) == len(runs) else State.MISSING
    return Finding(state, f"green on 3 or more nights in a row, the last within {NIGHTLY_WINDOW.days} days: "
                          f"{', '.join(green) or 'none'} of {', '.join(sorted(runs))}", str(history),
                   last.date().isoformat(), len(green))


def load_baseline(ev: Evidence) -> Finding:
    folder = ev.root / "docs" / "evidence" / "load"
    found = newest_dated(ev.root, folder)
    if found is None:
        return Finding(State.MISSING, "no dated load result: run `make bench`", str(folder))
    result = found.result
    if not within(result["date"], ev.now, LOAD_WINDOW):
        return Finding(State.MISSING, f"the last load run is older than {LOAD_WINDOW.days} days", found.source,
                       found.date)
    if result["regressions"]:
        return Finding(State.MISSING, "; ".join(result["regressions"]), found.source, found.date)
    finding = Finding(State.MET, f"ingress within {result['tolerance']:.0%} of its baseline", found.source,
                      found.date)
    return finding if result["generator"] == "k6" else capped(finding, "measured by the Python load generator: "
                                                                       "build k6 (`make k6`)")


def hil(ev: Evidence) -> Finding:
    folder = ev.root / "docs" / "evidence" / "hil"
    found = newest_dated(ev.root, folder)
    if found is None:
        return Finding(State.MISSING, "no dated HIL checklist: run `lis hil wiegand --port …` on the encoder",
                       str(folder))
    result = found.result
    failed = [check["name"] for check in result["checks"] if not check["ok"]]
    if failed or not within(result["date"], ev.now, HIL_WINDOW):
        why = f"failed: {', '.join(failed)}" if failed else f"older than {HIL_WINDOW.days} days"
        return Finding(State.MISSING, why, found.source, found.date)
    finding = Finding(State.MET, f"{len(result['checks'])} checks passed on {result['port']}", found.source,
                      found.date)
    return capped(finding, "on the pty simulator, not an encoder") if result["simulator"] else finding


def pentest(ev: Evidence) -> Finding:
    folder = ev.root / "docs" / "security" / "pentest"
    found = newest_dated(ev.root, folder)
    if found is None:
        return Finding(State.MISSING, "no penetration test report (docs/security/pentest/*.json)", str(folder))
    open_highs = [f["title"] for f in found.result["findings"] if f["severity"] in ("high", "critical")
                  and f["status"] != "fixed"]
    state = State.MISSING if open_highs else State.MET
    return Finding(state, f"{len(open_highs)} Highs open" + (f": {', '.join(open_highs)}" if open_highs else ""),
                   found.source, found.date)


def doc_filled(ev: Evidence, doc: str, marker: str, met: str) -> Finding:
    return placeholders(ev.root / doc, marker) or Finding(State.MET, met, doc)


NOT_DEPLOYED = "deployment to production is recorded nowhere in this repository"
CHECKS: dict[str, Callable[[Evidence], Finding]] = {
    "lock_port": lambda ev: ev.tests("tests/contract/test_lock_port_contract.py"),
    "vendor_contracts": vendor_contracts,
    "issue_saga": lambda ev: ev.tests("tests/e2e/test_issue_and_revoke.py"),
    "revoke_saga": lambda ev: ev.tests("tests/e2e/test_issue_and_revoke.py", "tests/e2e/test_worker_restart.py"),
    "update_saga": lambda ev: ev.tests("tests/e2e/test_credential_kinds.py"),
    "master_key": lambda ev: ev.tests("tests/e2e/test_master_key_shift.py", "tests/unit/test_master_shift.py"),
    "webhook_ingress": lambda ev: ev.tests("tests/integration/test_ingress_webhooks.py",
                                           "tests/integration/test_ingress_to_lock_events.py"),
    "electron_offline": lambda ev: not_built("the Electron offline-issuance app and its reconciliation"),
    "coverage": coverage,
    "mutation": mutation,
    "conformance": conformance,
    "load_baseline": load_baseline,
    "hil": hil,
    "secrets": lambda ev: capped(ev.tests("tests/integration/test_hsm_keys.py", "tests/unit/test_key_separation.py"),
                                 "per-tenant keys in a PKCS#11 HSM, tested on SoftHSM: no cloud secret manager or "
                                 "KMS is configured"),
    "rls": lambda ev: ev.tests("tests/integration/test_row_level_security.py"),
    "webhook_signatures": lambda ev: ev.tests("tests/unit/test_webhook_signature.py",
                                              "tests/integration/test_ingress_ttlock.py"),
    "audit": lambda ev: ev.tests("tests/integration/test_audit_immutability.py",
                                 "tests/integration/test_audit_tamper.py", "tests/e2e/test_audit_trail.py"),
    "redaction": lambda ev: ev.tests("tests/integration/test_secret_scan.py",
                                     "tests/integration/test_ingress_webhooks.py"),
    "pentest": pentest,
    "offline_signing": lambda ev: not_built("the offline-issuance signing key (it belongs to the Electron path)"),
    "device_binding": lambda ev: not_built("device binding and a certificate revocation list"),
    "retries": lambda ev: ev.tests("tests/contract/test_vendor_caller.py", "tests/unit/test_breaker.py"),
    "failure_modes": lambda ev: ev.tests("tests/unit/test_failure_modes_doc.py",
                                         "tests/e2e/test_failure_modes_real_path.py", "tests/chaos/test_chaos_run.py"),
    "dr_drill": lambda ev: capped(ev.tests("tests/e2e/test_audit_dr_drill.py"),
                                  "drilled on the project's own PostgreSQL, not a managed database's PITR"),
    "slo_rules": lambda ev: capped(ev.tests("tests/integration/test_prometheus_rules.py",
                                            "tests/e2e/test_slo_alerts.py"), NOT_DEPLOYED),
    "alerts": lambda ev: ev.tests("tests/integration/test_prometheus_rules.py"),
    "dashboards": lambda ev: capped(ev.tests("tests/unit/test_dashboards.py"), NOT_DEPLOYED),
    "synthetics": lambda ev: capped(ev.tests("tests/e2e/test_synthetics.py"), "checks built and tested on the "
                                    "sandboxes; nothing records them running per region in production"),
    "runbooks": lambda ev: ev.tests("tests/unit/test_failure_modes_doc.py", "tests/unit/test_service_docs.py"),
    "oncall": lambda ev: doc_filled(ev, "docs/ON_CALL.md", "not decided yet", "the rotation is written down"),
    "status_page": lambda ev: capped(ev.tests("tests/unit/test_status_feed.py", "tests/e2e/test_slo_alerts.py"),
                                     "the feed is built; no customer-facing status page consumes it yet"),
    "escalation": lambda ev: doc_filled(ev, "docs/VENDOR_ESCALATION.md", "TO FILL IN", "every contact filled in"),
    "classification": lambda ev: doc_filled(ev, "docs/DATA_CLASSIFICATION.md", "has not happened yet",
                                            "reviewed by privacy"),
    "subject_deletion": lambda ev: not_built("a subject-deletion command (records hold pseudonyms only)"),
    "residency": lambda ev: not_built("data-residency routing"),
    "service_docs": lambda ev: ev.tests("tests/unit/test_service_docs.py"),
    "openapi": lambda ev: ev.tests("tests/integration/test_openapi_lint.py", "tests/unit/test_webhook_openapi.py"),
    "schemas": lambda ev: ev.tests("tests/unit/test_schemas.py", "tests/e2e/test_schema_ids.py"),
    "adr": lambda ev: ev.tests("tests/unit/test_service_docs.py", "tests/unit/test_architecture_doc.py"),
}
