"""Every runbook says which alerts lead to it: exactly the alerts whose ``runbook_url`` names it, or "None:" with
why no alert does and which alerts a person would arrive from instead (each of them a real alert)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RUNBOOKS = sorted((ROOT / "runbooks" / "lock-integration").glob("*.md"))
RULES = yaml.safe_load((ROOT / "observability" / "prometheus" / "rules.yml").read_text())
ALERTS = [rule for group in RULES["groups"] for rule in group["rules"] if "alert" in rule]
SECTION = "## Alerts that lead here"


def _section(runbook: Path) -> str:
    text = runbook.read_text()
    assert SECTION in text, f"{runbook.name} does not say which alerts lead to it"
    return text.split(SECTION, 1)[1].split("\n## ", 1)[0]


@pytest.mark.parametrize("runbook", RUNBOOKS, ids=[r.stem for r in RUNBOOKS])
def test_each_runbook_lists_the_alerts_that_lead_to_it_or_says_why_none_does(runbook: Path) -> None:
    section = _section(runbook)
    leading = {rule["alert"] for rule in ALERTS
               if rule["annotations"]["runbook_url"] == str(runbook.relative_to(ROOT))}
    listed = set(re.findall(r"^- `(\w+)`", section, flags=re.MULTILINE))
    assert listed == leading, f"{runbook.name}: lists {sorted(listed)}, the rules point {sorted(leading)} here"
    if not leading:
        assert section.strip().startswith("None: "), f"{runbook.name}: no alert leads here, and it does not say why"
    named = set(re.findall(r"\b[A-Z][a-z]+(?:[A-Z][a-z0-9]+)+", section))  # CamelCase: alert names
    unknown = named - {rule["alert"] for rule in ALERTS}
    assert not unknown, f"{runbook.name} names alerts that do not exist: {sorted(unknown)}"
