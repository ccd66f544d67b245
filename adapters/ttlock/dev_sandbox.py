"""TTLock for ``lis dev`` and the tests: ``lis sandbox ttlock`` beside the stack, an account and the locks."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from adapters.dev_sandbox import FAULT_HELP, RunningSandbox, SandboxHost, run_http_sandbox
from app.domain.directory import DirectoryLock


async def start(host: SandboxHost, locks: Sequence[DirectoryLock]) -> RunningSandbox:
    url = host.serve(["sandbox", "ttlock"], log_name="sandbox-ttlock", what="TTLock sandbox")
    return RunningSandbox(url=url, account=await provision(url, locks))


async def provision(sandbox_url: str, locks: Sequence[DirectoryLock], *,
                    username: str = "hotel_admin") -> dict[str, Any]:
    """Create a sandbox account and its locks; returns the vendor account configuration for the directory.
    The sandbox keys accounts by ``username``: provisioning the same name again replaces its credentials."""
    account = {"clientId": secrets.token_hex(8), "clientSecret": secrets.token_hex(16),
               "username": username, "password": secrets.token_urlsafe(12)}
    async with httpx.AsyncClient(base_url=sandbox_url) as http:
        (await http.post("/sandbox/accounts", json=account)).raise_for_status()
        for lock in locks:
            body = {"lockId": int(lock.vendor_lock_id), "gatewayId": int(lock.gateway_id) if lock.gateway_id else None}
            (await http.post("/sandbox/locks", json=body)).raise_for_status()
    return {"base_url": sandbox_url, "client_id": account["clientId"], "client_secret": account["clientSecret"],
            "username": account["username"], "password": account["password"]}


def command(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8081,
    seed_file: Annotated[Path | None, typer.Option(help="JSON seed: accounts, gateways, locks, faults.")] = None,
    fault: Annotated[list[str] | None, typer.Option(help=FAULT_HELP)] = None,
) -> None:
    """Run the TTLock Open Platform sandbox on 127.0.0.1."""
    run_http_sandbox("ttlock", "TTLock", port, seed_file, fault)
