"""The stored mutation report (``make mutation``, app/devstack/mutation.py) is current and meets its target: it was
made from the code as it is now and kills at least 85 % of the non-equivalent mutants (a survivor not triaged counts
against it); and every survivor is to be triaged."""

from __future__ import annotations

import json

from app.devstack.mutation import REPORT, TARGET, code_digest, summarize, triage


def _report() -> dict[str, object]:
    assert REPORT.exists(), f"{REPORT} is missing: run `make mutation`"
    report: dict[str, object] = json.loads(REPORT.read_text())
    return report


def test_the_report_was_made_from_the_code_as_it_is() -> None:
    assert _report()["code_sha256"] == code_digest(), (
        "app/domain or the saga executor changed since the mutation report: run `make mutation` and commit it")


def _summary() -> dict[str, object]:
    statuses = _report()["statuses"]
    assert isinstance(statuses, dict)
    return summarize(statuses, triage())  # today's triage file, not the one the report was made with


def test_the_report_kills_its_target_share_of_the_non_equivalent_mutants() -> None:
    score = _summary()["score"]
    assert isinstance(score, float)
    assert score >= TARGET, f"mutation score {score:.1%} is under {TARGET:.0%}"


def test_every_survivor_is_triaged() -> None:
    assert _summary()["untriaged"] == [], "survivors with no verdict in docs/evidence/mutation/triage.toml"


def test_the_score_counts_equivalent_mutants_out_and_open_ones_against() -> None:
    statuses = {"m__mutmut_1": "killed", "m__mutmut_2": "survived", "m__mutmut_3": "survived",
                "m__mutmut_4": "timeout", "m__mutmut_5": "no tests"}
    triaged = {"m__mutmut_2": {"verdict": "equivalent", "why": "x"}, "m__mutmut_3": {"verdict": "open", "why": "y"}}
    summary = summarize(statuses, triaged)
    assert summary["score"] == 0.5, "2 killed of 4 non-equivalent"
    assert summary["untriaged"] == ["m__mutmut_5"]
