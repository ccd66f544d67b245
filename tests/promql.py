"""PromQL helpers of the observability tests: the metrics the service exports (and the recording rules it deploys),
and the metrics a parsed query selects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import promql_parser
import yaml
from prometheus_client import REGISTRY

import app.metrics  # noqa: F401  # registers the worker's metrics
from app.ingress.guards import IngressMetrics

RULES = Path(__file__).resolve().parents[1] / "observability" / "prometheus" / "rules.yml"
SUFFIXES = {"counter": ["_total"], "gauge": [""], "histogram": ["", "_bucket", "_sum", "_count"]}


def exported_names() -> set[str]:
    names = set()
    for registry in (REGISTRY, IngressMetrics(()).registry):
        for family in registry.collect():
            names.update(f"{family.name}{suffix}" for suffix in SUFFIXES.get(family.type, [""]))
    recorded = {rule["record"] for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]
                if "record" in rule}
    return names | recorded


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
