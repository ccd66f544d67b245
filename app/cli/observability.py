"""``lis dashboards`` and ``lis status-feed``: the observability artefacts built from code and from Prometheus."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

DASHBOARDS = Path("observability/grafana")


def dashboards_command(
    folder: Annotated[Path, typer.Option(help="Where the dashboard JSON goes.")] = DASHBOARDS,
) -> None:
    """Write the Grafana dashboards (SRE overview, per tenant, per property) built in app/observability/."""
    from app.observability.dashboards import write_dashboards

    for path in write_dashboards(folder):
        typer.echo(f"wrote {path}")


def _query(prometheus: str, expr: str) -> list[dict[str, Any]]:
    import httpx

    try:
        answer = httpx.get(f"{prometheus.rstrip('/')}/api/v1/query", params={"query": expr}, timeout=10)
        answer.raise_for_status()
    except httpx.HTTPError as err:
        where = httpx.URL(prometheus).copy_with(username=None, password=None)  # never print credentials
        typer.echo(f"Prometheus at {where} did not answer ({type(err).__name__}): nothing written", err=True)
        raise typer.Exit(1) from err
    result: list[dict[str, Any]] = answer.json()["data"]["result"]
    return result


def status_feed_command(
    prometheus: Annotated[str, typer.Option(help="Prometheus' base URL (its HTTP API).")],
    out: Annotated[Path, typer.Option(help="Where summary.json and feed.atom go.")] = Path(".var/status"),
    page_name: Annotated[str, typer.Option(help="The status page's name.")] = "Door keys",
    page_url: Annotated[str, typer.Option(help="The status page's public URL.")] = "https://status.example.invalid",
) -> None:
    """Derive each vendor's status per region from the SLO burn and the synthetic checks in Prometheus and write
    the status feed (Statuspage v2 summary.json and an Atom feed of changes)."""
    from app.observability.status_feed import publish, read_signals

    signals = read_signals(lambda expr: _query(prometheus, expr))
    current = publish(out, signals, datetime.now(UTC), page_name=page_name, page_url=page_url)
    for component in current["components"]:
        typer.echo(f"{component['name']}: {component['status']}")
    typer.echo(f"{current['status']['description']}; written to {out}/summary.json and {out}/feed.atom")
