"""Salto Space for ``lis dev`` and the tests: ``lis sandbox salto`` beside the stack, an API client, the locks'
access points and gateways, and the front desk's encoder."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import httpx
import typer

from adapters.dev_sandbox import FAULT_HELP, RunningSandbox, SandboxHost, run_http_sandbox
from app.domain.directory import DirectoryLock

SITE_TIMEZONE = "Europe/Berlin"
ENCODER_ID = "front-desk"  # the encoder cards are written on


async def start(host: SandboxHost, locks: Sequence[DirectoryLock]) -> RunningSandbox:
    url = host.serve(["sandbox", "salto"], log_name="sandbox-salto", what="Salto sandbox")
    client = {"clientId": f"lis-{secrets.token_hex(4)}", "clientSecret": secrets.token_urlsafe(24)}
    async with httpx.AsyncClient(base_url=url) as http:
        (await http.post("/sandbox/clients", json=client)).raise_for_status()
        for lock in locks:
            door = {"accessPointId": lock.vendor_lock_id, "gatewayId": lock.gateway_id, "name": lock.room or lock.area}
            (await http.post("/sandbox/accesspoints", json=door)).raise_for_status()
        (await http.post("/sandbox/encoders", json={"encoderId": ENCODER_ID})).raise_for_status()
    return RunningSandbox(url=url, account={
        "base_url": url,
        "client_id": client["clientId"],
        "client_secret": client["clientSecret"],
        "site_timezone": SITE_TIMEZONE,
        "encoder_id": ENCODER_ID,
    })


def command(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (the identity server and the API).")] = 8082,
    seed_file: Annotated[
        Path | None, typer.Option(help="JSON seed: clients, gateways, accessPoints, encoders, faults.")
    ] = None,
    fault: Annotated[list[str] | None, typer.Option(help=FAULT_HELP)] = None,
) -> None:
    """Run the Salto Space sandbox on 127.0.0.1."""
    run_http_sandbox("salto", "Salto", port, seed_file, fault)
