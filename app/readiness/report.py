"""The scorecard computed from evidence: every row judged, every tier GO or not, as JSON and Markdown."""

from __future__ import annotations

import json
import subprocess
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from app.readiness.checks import CHECKS, Evidence
from app.readiness.evidence import read_junit
from app.readiness.scorecard import ROWS, TIERS, Finding, Need, State, highest_go, satisfies, tiers_go

MARK = {State.MET: "✅", State.PARTIAL: "partial", State.MISSING: "❌"}


def _head(root: Path) -> str | None:
    done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=False)
    return done.stdout.strip() or None


def readiness(root: Path, *, junit: Path, conformance: Path, now: datetime, wiegand_used: bool) -> dict[str, Any]:
    """Judge every row of the scorecard from the evidence under ``root``."""
    head = _head(root)
    evidence = Evidence(root=root, run=read_junit(junit), now=now, conformance=conformance, junit=junit, head=head)
    findings: dict[str, Finding] = {row.key: CHECKS[row.key](evidence) for row in ROWS}
    blocking = tiers_go(findings, wiegand_used=wiegand_used)
    reached = highest_go(blocking)
    go = set(TIERS[:TIERS.index(reached) + 1]) if reached else set()  # promoted in order: a GO needs the tiers before
    rows = [{"domain": row.domain, "item": row.item, **asdict(findings[row.key]),
             "tiers": {tier: {"needs": str(need), "satisfied": satisfies(need, findings[row.key],
                                                                          wiegand_used=wiegand_used)}
                       for tier, need in zip(TIERS, row.needs, strict=True)}} for row in ROWS]
    run = evidence.run
    return {"generated": now.isoformat(timespec="seconds"), "commit": head, "wiegand_used": wiegand_used,
            "test_run": None if run is None else {"date": run.date.isoformat() if run.date else None,
                                                  "commit": run.commit, "cases": len(run.cases)},
            "tiers": {tier: {"go": tier in go, "blocking": items} for tier, items in blocking.items()},
            "highest_go": reached, "rows": rows}


def markdown(report: dict[str, Any]) -> str:
    lines = [f"# Readiness scorecard, {report['generated']}", "",
             f"Commit {report['commit'] or 'unknown'}; highest tier GO: **{report['highest_go'] or 'none'}** "
             "(tiers are promoted in order).", "",
             "| tier | GO | rows keeping it from GO |", "|---|---|---|"]
    for tier, verdict in report["tiers"].items():
        lines.append(f"| {tier} | {'GO' if verdict['go'] else 'NO-GO'} | {held(verdict)} |")
    lines += ["", "| domain | item | state | " + " | ".join(TIERS) + " | evidence | date | why |",
              "|" + "---|" * (6 + len(TIERS))]
    for row in report["rows"]:
        cells = [("" if cell["satisfied"] else "**") + cell["needs"] + ("" if cell["satisfied"] else "**")
                 for cell in row["tiers"].values()]
        lines.append(f"| {row['domain']} | {row['item']} | {MARK[State(row['state'])]} | " + " | ".join(cells)
                     + f" | `{row['source']}` | {row['date'] or '—'} | {row['reason']} |")
    lines += ["", f"A bold requirement is one the row does not meet; {Need.NOTHING} asks nothing of that tier. "
                  "Computed by `lis readiness` from the evidence files named; a row without evidence is ❌."]
    return "\n".join(lines) + "\n"


def held(verdict: dict[str, Any]) -> str:
    """How many rows keep a tier from GO, or that an earlier tier does."""
    count = len(verdict["blocking"])
    return "0: an earlier tier is not GO" if count == 0 and not verdict["go"] else str(count)


def write(report: dict[str, Any], folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    as_json, as_markdown = folder / "readiness.json", folder / "readiness.md"
    as_json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    as_markdown.write_text(markdown(report))
    return as_json, as_markdown
