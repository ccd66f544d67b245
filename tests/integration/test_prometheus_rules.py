"""The SLO recording rules and alerts (observability/prometheus/) pass promtool's checks and unit tests, every alert
is tested both firing and quiet, points at an existing runbook, and names only metrics the service exports."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY

import app.metrics  # noqa: F401  # registers the worker's metrics
from app.devstack.prometheus import prometheus_bin
from app.ingress.guards import IngressMetrics

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "observability" / "prometheus" / "rules.yml"
TESTS = ROOT / "observability" / "prometheus" / "tests.yml"
SUFFIXES = {"counter": ["_total"], "gauge": [""], "histogram": ["", "_bucket", "_sum", "_count"], "summary": ["_sum",
            "_count"]}


def _alerts() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def _exported_metric_names() -> set[str]:
    names = set()
    for registry in (REGISTRY, IngressMetrics(()).registry):
        for family in registry.collect():
            names.update(f"{family.name}{suffix}" for suffix in SUFFIXES.get(family.type, [""]))
    return names


def test_promtool_accepts_the_rules() -> None:
    result = subprocess.run([str(prometheus_bin()), "check", "rules", str(RULES)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_of_every_alert_pass() -> None:
    result = subprocess.run([str(prometheus_bin()), "test", "rules", TESTS.name], cwd=TESTS.parent,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.parametrize("alert", _alerts(), ids=lambda alert: alert["alert"])
def test_every_alert_has_a_severity_a_summary_and_a_runbook_that_exists(alert: dict[str, Any]) -> None:
    assert alert["labels"]["severity"] in ("page", "ticket")
    assert alert["annotations"]["summary"]
    assert (ROOT / alert["annotations"]["runbook_url"]).is_file(), alert["annotations"]["runbook_url"]


def test_every_alert_is_unit_tested_firing_and_quiet() -> None:
    cases = [case for test in yaml.safe_load(TESTS.read_text())["tests"] for case in test.get("alert_rule_test", [])]
    for alert in _alerts():
        mine = [case for case in cases if case["alertname"] == alert["alert"]]
        assert any(case["exp_alerts"] for case in mine), f"{alert['alert']} is never tested firing"
        assert any(not case["exp_alerts"] for case in mine), f"{alert['alert']} is never tested quiet"


def test_the_rules_name_only_metrics_the_service_exports() -> None:
    named = set(re.findall(r"\b(lis_[a-z_]+)\b", RULES.read_text()))
    unknown = named - _exported_metric_names()
    assert named, "the rules name no metric"
    assert not unknown, f"the rules name metrics the service never exports: {sorted(unknown)}"


def test_runbooks_and_the_failure_modes_name_only_metrics_the_service_exports() -> None:
    texts = [path.read_text() for path in (ROOT / "runbooks").rglob("*.md")]
    texts.append((ROOT / "docs" / "FAILURE_MODES.md").read_text())
    named = {name for text in texts for name in re.findall(r"\b(lis_[a-z_]+)\b", text)} - {"lis_app"}  # the DB role
    unknown = named - _exported_metric_names()
    assert not unknown, f"runbooks name metrics the service never exports: {sorted(unknown)}"


def test_the_catalogue_lists_every_metric_the_service_exports() -> None:
    catalogue = (ROOT / "docs" / "OBSERVABILITY.md").read_text()
    families = {family.name for registry in (REGISTRY, IngressMetrics(()).registry) for family in registry.collect()
                if family.name.startswith("lis_")}
    missing = [name for name in sorted(families) if not re.search(rf"`{name}(_total)?`", catalogue)]
    assert not missing, f"docs/OBSERVABILITY.md does not list: {missing}"
