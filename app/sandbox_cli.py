"""``lis sandbox …``: the vendor sandboxes, real servers speaking each vendor's wire format, on 127.0.0.1."""

from __future__ import annotations

import asyncio

import typer

sandbox_cli = typer.Typer(no_args_is_help=True, help="Vendor sandboxes: real servers speaking each vendor's wire.")


@sandbox_cli.command("ttlock")
def sandbox_ttlock(port: int = typer.Option(8081, help="Port on 127.0.0.1.")) -> None:
    """Run the TTLock Open Platform sandbox on 127.0.0.1."""
    from adapters.ttlock.sandbox import run_sandbox

    asyncio.run(run_sandbox("127.0.0.1", port))
