"""The customer-facing status feed: one component per vendor and region, from the SLO burn and the synthetic checks,
in the shape of Statuspage's v2 ``summary.json`` and as an Atom feed of status changes.

A component's status comes from two signals Prometheus holds:

* the burn rate of its vendor calls' errors over 5 minutes against the issuance SLO's budget (0.5 %): above the
  slow-burn factor (6) it is ``degraded_performance``, above the fast-burn factor (14.4) a ``partial_outage``;
* the synthetic check (``lis_synthetic_check_up``): failing, it is at least a ``partial_outage``, and a
  ``major_outage`` when the calls burn fast too.

``lis status-feed`` writes ``summary.json`` and ``feed.atom``; a status page (Statuspage, or any page that reads that
shape) consumes them. Timestamps of unchanged components are kept from the previous summary, and each change is one
Atom entry (the last :data:`KEPT_CHANGES`).
"""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET  # builds the feed; nothing is parsed  # nosec B405
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

BUDGET = 0.005  # the issuance SLO: 99.5 % (docs/SLOS.md)
SLOW_BURN, FAST_BURN = 6.0, 14.4  # the burn factors of the SLO's ticket and page alerts
KEPT_CHANGES = 50
CALLS = "sum by (vendor, region) (rate(lis_vendor_calls_total[5m]))"
# "or CALLS * 0": a vendor with calls and no error has no error series; its ratio is 0, not absent.
# An offline passcode issued while the gateway is down (offline_code) is the vendor answering as it should.
ERRORS = 'sum by (vendor, region) (rate(lis_vendor_calls_total{outcome!~"ok|offline_code"}[5m]))'
ERROR_RATIO = f"({ERRORS} or {CALLS} * 0) / {CALLS}"
SYNTHETIC_UP = "min by (vendor, region) (lis_synthetic_check_up)"
ORDER = ("operational", "degraded_performance", "partial_outage", "major_outage")
INDICATOR = {"operational": ("none", "All Systems Operational"),
             "degraded_performance": ("minor", "Minor Service Outage"),
             "partial_outage": ("minor", "Partial System Outage"), "major_outage": ("major", "Major System Outage")}


@dataclass(frozen=True)
class Signals:
    """What Prometheus says about one vendor in one region (None: no data)."""

    error_ratio: float | None
    synthetic_up: float | None


def component_status(signals: Signals) -> str:
    ratio = signals.error_ratio or 0.0
    fast, synthetic_failing = ratio > BUDGET * FAST_BURN, signals.synthetic_up == 0
    if synthetic_failing and fast:
        return "major_outage"
    if synthetic_failing or fast:
        return "partial_outage"
    return "degraded_performance" if ratio > BUDGET * SLOW_BURN else "operational"


def signals_from(error_ratios: list[dict[str, Any]], synthetics: list[dict[str, Any]]
                 ) -> dict[tuple[str, str], Signals]:
    """Per (vendor, region), the two signals from Prometheus query results (``/api/v1/query`` vectors)."""
    def by_key(results: list[dict[str, Any]]) -> dict[tuple[str, str], float]:
        return {(r["metric"]["vendor"], r["metric"]["region"]): float(r["value"][1]) for r in results
                if "vendor" in r["metric"] and "region" in r["metric"]}

    ratios, ups = by_key(error_ratios), by_key(synthetics)
    return {key: Signals(_finite(ratios.get(key)), ups.get(key)) for key in sorted(set(ratios) | set(ups))}


def read_signals(query: Callable[[str], list[dict[str, Any]]]) -> dict[tuple[str, str], Signals]:
    """Both signals per (vendor, region), asked of Prometheus with ``query`` (an instant query's result vector)."""
    return signals_from(query(ERROR_RATIO), query(SYNTHETIC_UP))


def _finite(value: float | None) -> float | None:
    return None if value is None or value != value else value  # NaN: no calls in the window


def _component_id(vendor: str, region: str) -> str:
    return hashlib.sha256(f"{vendor}/{region}".encode()).hexdigest()[:12]


def summary(signals: dict[tuple[str, str], Signals], previous: dict[str, Any] | None, now: datetime, *,
            page_name: str, page_url: str) -> dict[str, Any]:
    """The Statuspage v2 ``summary.json`` document; a component keeps its ``updated_at`` while its status holds."""
    stamp = now.isoformat(timespec="seconds")
    before = {c["id"]: c for c in (previous or {}).get("components", [])}
    page_id = hashlib.sha256(page_name.encode()).hexdigest()[:12]
    components = []
    for position, ((vendor, region), found) in enumerate(sorted(signals.items()), start=1):
        ident, status = _component_id(vendor, region), component_status(found)
        old = before.get(ident, {})
        components.append({
            "id": ident, "name": f"{vendor} door keys ({region})", "status": status,
            "created_at": old.get("created_at", stamp),
            "updated_at": old["updated_at"] if old.get("status") == status else stamp,
            "position": position, "description": f"Issuing and revoking {vendor} door keys in {region}",
            "showcase": True, "start_date": None, "group_id": None, "page_id": page_id, "group": False,
            "only_show_if_degraded": False})
    worst = max((c["status"] for c in components), key=ORDER.index, default="operational")
    indicator, description = INDICATOR[worst]
    return {"page": {"id": page_id, "name": page_name, "url": page_url, "time_zone": "Etc/UTC", "updated_at": stamp},
            "components": components, "incidents": [], "scheduled_maintenances": [],
            "status": {"indicator": indicator, "description": description}}


def changes(current: dict[str, Any], previous: dict[str, Any] | None, kept: list[dict[str, Any]]
            ) -> list[dict[str, Any]]:
    """``kept`` with one entry more for each component whose status changed (or that is new), newest first."""
    before = {c["id"]: c["status"] for c in (previous or {}).get("components", [])}
    new = [{"id": f"{c['id']}-{c['updated_at']}", "component": c["name"], "status": c["status"],
            "was": before.get(c["id"]), "at": c["updated_at"]}
           for c in current["components"] if before.get(c["id"]) != c["status"]]
    return (new + kept)[:KEPT_CHANGES]


def atom(current: dict[str, Any], entries: list[dict[str, Any]]) -> str:
    """An Atom 1.0 feed of the status changes."""
    ns = "http://www.w3.org/2005/Atom"
    feed = ET.Element("feed", xmlns=ns)
    page = current["page"]
    for tag, text in (("id", f"urn:lis-status:{page['id']}"), ("title", f"{page['name']} status"),
                      ("updated", page["updated_at"])):
        ET.SubElement(feed, tag).text = text
    ET.SubElement(feed, "link", href=page["url"])
    ET.SubElement(ET.SubElement(feed, "author"), "name").text = page["name"]
    for entry in entries:
        item = ET.SubElement(feed, "entry")
        was = f" (was {entry['was'].replace('_', ' ')})" if entry["was"] else ""
        ET.SubElement(item, "id").text = f"urn:lis-status:{entry['id']}"
        ET.SubElement(item, "title").text = f"{entry['component']}: {entry['status'].replace('_', ' ')}"
        ET.SubElement(item, "updated").text = entry["at"]
        ET.SubElement(item, "summary").text = f"{entry['component']} is {entry['status'].replace('_', ' ')}{was}"
    return ET.tostring(feed, encoding="unicode", xml_declaration=True) + "\n"


def publish(folder: Path, signals: dict[tuple[str, str], Signals], now: datetime, *, page_name: str,
            page_url: str) -> dict[str, Any]:
    """Write ``summary.json``, ``feed.atom`` and the kept changes (``changes.json``) to ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    summary_file, changes_file = folder / "summary.json", folder / "changes.json"
    previous = json.loads(summary_file.read_text()) if summary_file.is_file() else None
    kept = json.loads(changes_file.read_text()) if changes_file.is_file() else []
    current = summary(signals, previous, now, page_name=page_name, page_url=page_url)
    entries = changes(current, previous, kept)
    summary_file.write_text(json.dumps(current, indent=2) + "\n")
    changes_file.write_text(json.dumps(entries, indent=2) + "\n")
    (folder / "feed.atom").write_text(atom(current, entries))
    return current
