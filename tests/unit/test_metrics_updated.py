"""Every metric the service registers is updated somewhere in the code: a metric that is declared, catalogued and
named by a rule but never incremented (as ``lis_dead_letters_total`` once was) would keep an alert from ever
firing. A static check over the code, beside the tests that drive each metric's event."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from prometheus_client.metrics import MetricWrapperBase

from app import metrics

ROOT = Path(__file__).resolve().parents[2]
CODE = [path for folder in ("app", "agents", "tables", "adapters") for path in (ROOT / folder).rglob("*.py")]
DECLARED = sorted(name for name, value in vars(metrics).items() if isinstance(value, MetricWrapperBase))


def test_the_metrics_module_declares_the_metrics_this_test_checks() -> None:
    assert len(DECLARED) >= 20, DECLARED


@pytest.mark.parametrize("name", DECLARED)
def test_each_declared_metric_is_updated_by_the_code(name: str) -> None:
    update = re.compile(rf"\b{name}\.(labels\(|inc\(|dec\(|set\(|observe\(|set_to_current_time\()")
    users = [path.relative_to(ROOT) for path in CODE if update.search(path.read_text())]
    assert users, f"{name} is declared in app/metrics.py but nothing updates it"


def test_each_ingress_metric_is_updated_by_the_code() -> None:
    guards = (ROOT / "app" / "ingress" / "guards.py").read_text()
    for attribute in re.findall(r"self\.(\w+) = (?:Counter|Gauge|Histogram)\(", guards):
        assert re.search(rf"self\.{attribute}\.labels\(", guards), attribute
