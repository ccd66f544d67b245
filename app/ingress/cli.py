"""``lis ingress``: run the vendor webhook ingress."""

from __future__ import annotations

import typer

ingress_cli = typer.Typer(no_args_is_help=True, help="The signed vendor webhook ingress (aiohttp).")
