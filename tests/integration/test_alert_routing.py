"""Alert routing (observability/alertmanager/alertmanager.yml): Alertmanager's amtool accepts it, and routes every
alert of the rules by its severity, ``page`` to the on-call pager and ``ticket`` to the team's queue, and an alert
without a known severity still to a person. (Debian's Alertmanager server reads its default template from
/usr/share, so it cannot run unpacked in the cache: the delivery itself is not exercised here.)"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.devstack.prometheus import alertmanager_bin

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "observability" / "alertmanager" / "alertmanager.yml"
RULES = ROOT / "observability" / "prometheus" / "rules.yml"
RECEIVERS = {"page": "on-call-pager", "ticket": "ticket-queue"}


def _alerts() -> list[dict[str, Any]]:
    return [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"] if "alert" in rule]


def _amtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(alertmanager_bin()), *args], capture_output=True, text=True, timeout=60, check=False)


def test_amtool_accepts_the_routing() -> None:
    checked = _amtool("check-config", str(CONFIG))
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize("alert", _alerts(), ids=lambda rule: rule["alert"])
def test_each_alert_is_routed_to_the_receiver_of_its_severity(alert: dict[str, Any]) -> None:
    severity = alert["labels"]["severity"]
    routed = _amtool("config", "routes", "test", f"--config.file={CONFIG}", f"alertname={alert['alert']}",
                     f"severity={severity}", "tenant=t1", "vendor=salto")
    assert routed.stdout.split() == [RECEIVERS[severity]], routed.stdout + routed.stderr


def test_an_alert_without_a_known_severity_still_reaches_the_ticket_queue() -> None:
    routed = _amtool("config", "routes", "test", f"--config.file={CONFIG}", "alertname=Anything")
    assert routed.stdout.split() == ["ticket-queue"], routed.stdout + routed.stderr


def test_every_severity_the_rules_use_has_its_own_route() -> None:
    routes = yaml.safe_load(CONFIG.read_text())["route"]["routes"]
    routed = {matcher.split("=")[1].strip('"') for route in routes for matcher in route["matchers"]}
    assert {alert["labels"]["severity"] for alert in _alerts()} == routed == set(RECEIVERS)
