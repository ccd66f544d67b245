"""Salto and Generic Wiegand for ``lis dev``: start their sandboxes beside the stack and provision them, as
:func:`app.devstack.provision_ttlock` does for TTLock. Each function returns the vendor account configuration the
directory stores sealed (``vendor_accounts``), so the worker builds the real adapters against the sandboxes."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from app.devstack.stack import Stack
from app.domain.directory import DirectoryLock
from app.infra.ports import free_port, wait_for_port

SITE_TIMEZONE = "Europe/Berlin"
ENCODER_ID = "front-desk"  # the Salto encoder cards are written on
FACILITY_CODE = 42


async def start_salto_sandbox(stack: Stack) -> str:
    """Run ``lis sandbox salto`` as a child of the stack; its base URL."""
    port = free_port()
    stack.spawn(["sandbox", "salto", "--port", str(port)], log_name="sandbox-salto")
    wait_for_port(port, 30, what="Salto sandbox")
    return f"http://127.0.0.1:{port}"


async def provision_salto(sandbox_url: str, locks: list[DirectoryLock]) -> dict[str, Any]:
    """Create an API client, the locks' access points and gateways, and an encoder; the Salto account config."""
    client = {"clientId": f"lis-{secrets.token_hex(4)}", "clientSecret": secrets.token_urlsafe(24)}
    async with httpx.AsyncClient(base_url=sandbox_url) as http:
        (await http.post("/sandbox/clients", json=client)).raise_for_status()
        for lock in locks:
            door = {"accessPointId": lock.vendor_lock_id, "gatewayId": lock.gateway_id, "name": lock.room or lock.area}
            (await http.post("/sandbox/accesspoints", json=door)).raise_for_status()
        (await http.post("/sandbox/encoders", json={"encoderId": ENCODER_ID})).raise_for_status()
    return {
        "base_url": sandbox_url,
        "client_id": client["clientId"],
        "client_secret": client["clientSecret"],
        "site_timezone": SITE_TIMEZONE,
        "encoder_id": ENCODER_ID,
    }


async def start_wiegand_simulator(stack: Stack, locks: list[DirectoryLock]) -> tuple[str, dict[str, Any]]:
    """Run ``lis sandbox wiegand`` with the locks' encoders (their gateway ids) and zones; its admin URL and the
    Wiegand account config, whose serial ports are the simulator's pseudo-terminal links."""
    port, link_dir = free_port(), stack.root / "wiegand"
    encoders = sorted({lock.gateway_id for lock in locks if lock.gateway_id})
    args = ["sandbox", "wiegand", "--port", str(port), "--link-dir", str(link_dir)]
    args += [arg for encoder in encoders for arg in ("--encoder", encoder)]
    args += [arg for lock in locks for arg in ("--zone", lock.vendor_lock_id)]
    stack.spawn(args, log_name="sandbox-wiegand")
    wait_for_port(port, 30, what="Wiegand encoder simulator")
    config = {"encoders": {encoder: str(link_dir / encoder) for encoder in encoders}, "facility_code": FACILITY_CODE}
    return f"http://127.0.0.1:{port}", config
