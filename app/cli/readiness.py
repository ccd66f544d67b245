"""``lis readiness``: the readiness scorecard computed from evidence (docs/READINESS.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from app.readiness.evidence import JUNIT
from app.readiness.report import MARK, held, readiness, write
from app.readiness.scorecard import TIERS, State


def readiness_command(
    junit: Annotated[Path, typer.Option(help="JUnit XML of the last full test run (`make test` writes it).")] = JUNIT,
    conformance_dir: Annotated[Path, typer.Option(envvar="LIS_CONFORMANCE_DIR", help="Conformance reports.")] = Path(
        ".var/conformance"),
    out: Annotated[Path, typer.Option(help="Where readiness.json and readiness.md go.")] = Path(".var/readiness"),
    wiegand_used: Annotated[bool, typer.Option(help="Generic Wiegand encoders are used in production.")] = False,
    require: Annotated[str | None, typer.Option(help=f"Exit 1 unless this tier is GO ({', '.join(TIERS)}).")] = None,
) -> None:
    """Judge every row of the readiness scorecard from its evidence (test run, coverage, mutation, conformance, load,
    HIL, pen test, docs), print each tier GO or not and the highest tier that is GO, and write JSON and Markdown."""
    if require is not None and require not in TIERS:
        raise typer.BadParameter(f"not a tier: {require} (one of {', '.join(TIERS)})", param_hint="--require")
    report = readiness(Path.cwd(), junit=junit, conformance=conformance_dir, now=datetime.now(UTC),
                       wiegand_used=wiegand_used)
    console = Console(width=200)
    rows = Table("domain", "item", "state", *TIERS, "evidence", "date", "why", title="Readiness scorecard")
    for row in report["rows"]:
        cells = [cell["needs"] if cell["satisfied"] else f"[red]{cell['needs']}[/]" for cell in row["tiers"].values()]
        rows.add_row(row["domain"], row["item"], MARK[State(row["state"])], *cells, row["source"], row["date"] or "—",
                     row["reason"])
    console.print(rows)
    tiers = Table("tier", "verdict", "rows keeping it from GO")
    for tier, verdict in report["tiers"].items():
        tiers.add_row(tier, "GO" if verdict["go"] else "NO-GO", held(verdict))
    console.print(tiers)
    as_json, as_markdown = write(report, out)
    console.print(f"highest tier GO: {report['highest_go'] or 'none'}; written to {as_json} and {as_markdown}")
    if require is not None and not report["tiers"][require]["go"]:
        raise typer.Exit(1)
