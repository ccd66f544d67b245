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
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models.dashboard import Dashboard

from app.observability.dashboards import dashboards
from tests.promql import exported_names, metric_names

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "observability" / "grafana"


def _board(name: str) -> dict[str, Any]:
    return json.loads((FOLDER / name).read_text())


def _panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [panel for panel in board["panels"] if panel["type"] != "row"]


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
