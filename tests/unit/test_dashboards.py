"""The Grafana dashboards under observability/grafana/ are the ones `lis dashboards` builds, load back into
grafana-foundation-sdk's model, and every panel query parses as PromQL and names only metrics the service exports or
recording rules it deploys; every panel reads the chosen Prometheus and every template variable is used."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models.dashboard import Dashboard
from prometheus_client import REGISTRY

import app.metrics  # noqa: F401  # registers the worker's metrics
from app.ingress.guards import IngressMetrics
from app.observability.dashboards import dashboards

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "observability" / "grafana"
RULES = ROOT / "observability" / "prometheus" / "rules.yml"
SUFFIXES = {"counter": ["_total"], "gauge": [""], "histogram": ["", "_bucket", "_sum", "_count"]}


def exported_names() -> set[str]:
    names = set()
    for registry in (REGISTRY, IngressMetrics().registry):
        for family in registry.collect():
            names.update(f"{family.name}{suffix}" for suffix in SUFFIXES.get(family.type, [""]))
    recorded = {rule["record"] for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]
                if "record" in rule}
    return names | recorded


def _board(name: str) -> dict[str, Any]:
    return json.loads((FOLDER / name).read_text())


def _panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [panel for panel in board["panels"] if panel["type"] != "row"]


def metric_names(node: Any) -> set[str]:
    """Every metric a parsed PromQL expression selects (vector selectors, inside functions and aggregations)."""
    if isinstance(node, promql_parser.VectorSelector):
        return {node.name} if node.name else {m.value for m in node.matchers.matchers if m.name == "__name__"}
    names: set[str] = set()
    for attribute in ("lhs", "rhs", "expr", "vector_selector", "param"):
        child = getattr(node, attribute, None)
        if child is not None:
            names |= metric_names(child)
    for argument in getattr(node, "args", None) or []:
        names |= metric_names(argument)
    return names


def test_the_committed_dashboards_are_the_ones_lis_dashboards_builds() -> None:
    built = dashboards()
    assert sorted(built) == sorted(path.name for path in FOLDER.glob("*.json"))
    for name, text in built.items():
        assert (FOLDER / name).read_text() == text, f"{name} is stale: run `lis dashboards`"


@pytest.mark.parametrize("name", sorted(dashboards()))
def test_each_dashboard_loads_back_into_the_grafana_model(name: str) -> None:
    register_default_plugins()
    board = Dashboard.from_json(_board(name))
    assert (board.uid or "").startswith("lis-")
    assert board.title
    assert board.panels


@pytest.mark.parametrize("name", sorted(dashboards()))
def test_every_query_parses_and_names_only_exported_metrics_or_recording_rules(name: str) -> None:
    exported = exported_names()
    for panel in _panels(_board(name)):
        for target in panel["targets"]:
            named = metric_names(promql_parser.parse(target["expr"]))
            assert named, f"{panel['title']}: the query selects no metric"
            assert named <= exported, f"{panel['title']}: never exported: {sorted(named - exported)}"


@pytest.mark.parametrize("name", sorted(dashboards()))
def test_every_panel_reads_the_chosen_prometheus_and_every_variable_is_used(name: str) -> None:
    board = _board(name)
    panels = _panels(board)
    assert len({panel["id"] for panel in board["panels"]}) == len(board["panels"]), "panel ids repeat"
    for panel in panels:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert all(target["datasource"] == panel["datasource"] for target in panel["targets"]), panel["title"]
    text = json.dumps([panel["targets"] for panel in panels]) + json.dumps(board["templating"])
    for variable in board["templating"]["list"]:
        if variable["type"] == "query":
            assert f"${variable['name']}" in text.replace(f'"name": "{variable["name"]}"', ""), variable["name"]


def test_the_tenant_and_property_dashboards_filter_every_query_by_their_variables() -> None:
    for name, labels in (("tenant.json", ["tenant"]), ("property.json", ["tenant", "property"])):
        for panel in _panels(_board(name)):
            for target in panel["targets"]:
                for label in labels:
                    assert re.search(rf'{label}="\${label}"', target["expr"]), (name, panel["title"], label)


def test_the_metric_walk_finds_metrics_inside_functions_aggregations_and_binary_expressions() -> None:
    expr = 'histogram_quantile(0.99, sum by (le) (rate(a_bucket[5m]))) / on() b + max(lis:c:ratio{x="$y"})'
    assert metric_names(promql_parser.parse(expr)) == {"a_bucket", "b", "lis:c:ratio"}
    with pytest.raises(ValueError, match="unclosed left parenthesis"):
        promql_parser.parse("sum(rate(a[5m])")
