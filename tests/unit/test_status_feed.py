"""The status feed: each vendor and region's status from its error burn and synthetic check, in Statuspage's v2
summary shape, with unchanged components keeping their time and each change one Atom entry."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET  # parses the feed this test just built  # nosec B405
from datetime import UTC, datetime, timedelta
from pathlib import Path

import promql_parser
import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.observability.status_feed import (
    BUDGET,
    ERROR_RATIO,
    FAST_BURN,
    SLOW_BURN,
    SYNTHETIC_UP,
    Signals,
    component_status,
    publish,
    signals_from,
    summary,
)
from tests.promql import exported_names, metric_names

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)
ATOM = "{http://www.w3.org/2005/Atom}"


SLOW, FAST = BUDGET * SLOW_BURN, BUDGET * FAST_BURN


@pytest.mark.parametrize(("ratio", "up", "status"), [
    (None, None, "operational"), (0.0, 1.0, "operational"), (SLOW, 1.0, "operational"),
    (math.nextafter(SLOW, 1), 1.0, "degraded_performance"), (FAST, 1.0, "degraded_performance"),
    (math.nextafter(FAST, 1), 1.0, "partial_outage"), (0.0, 0.0, "partial_outage"), (SLOW * 2, 0.0, "partial_outage"),
    (FAST, 0.0, "partial_outage"), (math.nextafter(FAST, 1), 0.0, "major_outage"),
], ids=["no-data", "clean", "slow-burn-edge", "slow-burn", "fast-burn-edge", "fast-burn", "canary-fails",
        "canary-fails-slow-burn", "canary-fails-fast-edge", "both"])
def test_a_component_status_follows_the_slo_burn_factors_and_the_synthetic_check(
        ratio: float | None, up: float | None, status: str) -> None:
    assert component_status(Signals(error_ratio=ratio, synthetic_up=up)) == status


def test_signals_are_joined_per_vendor_and_region_and_a_window_without_calls_is_no_data() -> None:
    ratios = [{"metric": {"vendor": "ttlock", "region": "eu-west"}, "value": [0, "0.2"]},
              {"metric": {"vendor": "salto", "region": "eu-west"}, "value": [0, "NaN"]}]
    ups = [{"metric": {"vendor": "ttlock", "region": "us-east"}, "value": [0, "0"]}]
    assert signals_from(ratios, ups) == {("salto", "eu-west"): Signals(None, None),
                                         ("ttlock", "eu-west"): Signals(0.2, None),
                                         ("ttlock", "us-east"): Signals(None, 0.0)}


def test_the_summary_has_statuspages_v2_shape_and_the_worst_component_sets_the_page_indicator() -> None:
    found = summary({("ttlock", "eu-west"): Signals(0.5, 0.0), ("salto", "eu-west"): Signals(0.0, 1.0)}, None, NOW,
                    page_name="Door keys", page_url="https://status.example.invalid")
    assert set(found) == {"page", "components", "incidents", "scheduled_maintenances", "status"}
    assert found["status"] == {"indicator": "major", "description": "Major System Outage"}
    assert [(c["name"], c["status"]) for c in found["components"]] == [
        ("salto door keys (eu-west)", "operational"), ("ttlock door keys (eu-west)", "major_outage")]
    for component in found["components"]:
        assert {"id", "name", "status", "created_at", "updated_at", "position", "description", "showcase",
                "start_date", "group_id", "page_id", "group", "only_show_if_degraded"} <= set(component)
        assert component["page_id"] == found["page"]["id"]


def test_a_component_keeps_its_time_while_its_status_holds_and_each_change_is_one_atom_entry(tmp_path: Path) -> None:
    key = ("ttlock", "eu-west")
    publish(tmp_path, {key: Signals(0.0, 1.0)}, NOW, page_name="Door keys", page_url="https://s.invalid")
    later = NOW + timedelta(minutes=5)
    same = publish(tmp_path, {key: Signals(0.01, 1.0)}, later, page_name="Door keys", page_url="https://s.invalid")
    assert same["components"][0]["updated_at"] == NOW.isoformat(timespec="seconds")
    assert same["page"]["updated_at"] == later.isoformat(timespec="seconds")
    worse = publish(tmp_path, {key: Signals(0.5, 0.0)}, later + timedelta(minutes=5), page_name="Door keys",
                    page_url="https://s.invalid")
    assert worse["components"][0]["updated_at"] == (later + timedelta(minutes=5)).isoformat(timespec="seconds")

    feed = ET.fromstring((tmp_path / "feed.atom").read_text())  # nosec B314: the feed written just above
    titles = [entry.find(f"{ATOM}title").text for entry in feed.iter(f"{ATOM}entry")]  # type: ignore[union-attr]
    assert titles == ["ttlock door keys (eu-west): major outage", "ttlock door keys (eu-west): operational"]
    summaries = [entry.find(f"{ATOM}summary").text for entry in feed.iter(f"{ATOM}entry")]  # type: ignore[union-attr]
    assert summaries[0] == "ttlock door keys (eu-west) is major outage (was operational)"
    assert feed.find(f"{ATOM}author/{ATOM}name").text == "Door keys"  # type: ignore[union-attr]  # RFC 4287 4.1.1
    assert json.loads((tmp_path / "summary.json").read_text()) == worse


def test_lis_status_feed_says_so_and_writes_nothing_when_prometheus_does_not_answer(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["status-feed", "--prometheus", "http://127.0.0.1:9", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "did not answer" in result.output
    assert not list(tmp_path.iterdir())


def test_the_feeds_queries_parse_and_name_only_exported_metrics() -> None:
    for expr in (ERROR_RATIO, SYNTHETIC_UP):
        named = metric_names(promql_parser.parse(expr))
        assert named
        assert named <= exported_names(), expr
