"""``lis dlq …``: list dead letters and replay them."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from app.dlq import read_letters, replay
from app.settings import settings

dlq_cli = typer.Typer(no_args_is_help=True, help="Dead letters: what could not be processed, and why.")


@dlq_cli.command("list")
def dlq_list(
    contains: str = typer.Option("", help="Only letters whose reason contains this text."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line instead of a table."),
) -> None:
    """List the dead letters: position, source topic, key, reason."""
    letters = asyncio.run(read_letters(settings.kafka_bootstrap_servers, contains=contains))
    if as_json:
        for letter in letters:
            typer.echo(json.dumps(letter.listed()))
        return
    table = Table(title=f"{len(letters)} dead letter(s)")
    for column in ("position", "source", "key", "failed at", "reason"):
        table.add_column(column)
    for letter in letters:
        table.add_row(letter.position, letter.source_topic, letter.key or "", letter.record.failed_at.isoformat(),
                      letter.reason.splitlines()[0][:160])
    Console().print(table)


@dlq_cli.command("replay")
def dlq_replay(
    position: Annotated[list[str] | None, typer.Option(help="partition:offset of a letter (repeatable).")] = None,
    contains: str = typer.Option("", help="Replay every letter whose reason contains this text."),
) -> None:
    """Send dead letters back to their source topic (lock commands are marked as a replay)."""
    if not position and not contains:
        raise typer.BadParameter("name letters with --position or --contains")
    letters = asyncio.run(read_letters(settings.kafka_bootstrap_servers, contains=contains))
    chosen = [letter for letter in letters if not position or letter.position in position]
    typer.echo(f"replayed {asyncio.run(replay(settings.kafka_bootstrap_servers, chosen))} letter(s)")
