"""The Salto entry of the contract suite: the Salto sandbox with an API client, doors on two gateways, an encoder."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from adapters.salto.client import SaltoClient, SaltoConfig
from adapters.salto.sandbox import SaltoSandbox
from app.domain.credential import Capabilities, CredentialKind, LockRef, Validity
from app.domain.errors import DuplicateCredential, GatewayBusy, RateLimited, VendorUnavailable
from app.domain.lock_port import LockPort
from tests.contract.harness import HarnessEntry, SandboxCredential, VendorHarness, lock_ref

CLIENT = {"clientId": "lis-hotel-1", "clientSecret": "s4lto-s3cret"}
SITE = ZoneInfo("Europe/Berlin")


def _site_time(text: str) -> datetime:
    # Read independently of the adapter's mapping: Salto's wire time is the site's wall clock, to the second.
    return datetime.fromisoformat(text).replace(tzinfo=SITE)


def _kind(user: dict[str, Any]) -> CredentialKind | None:
    if user["hasPinCode"]:
        return CredentialKind.PASSCODE
    if user["mobileKeyStatus"] == "Assigned":
        return CredentialKind.MOBILE_KEY
    return CredentialKind.CARD if user["cardSerial"] else None


def _read(users: list[dict[str, Any]]) -> list[SandboxCredential]:
    return [
        SandboxCredential(
            kind=_kind(u) or CredentialKind.PASSCODE,
            label=u["extUserId"],
            validity=Validity(starts_at=_site_time(u["userActivation"]), ends_at=_site_time(u["userExpiration"])),
            on_lock=_kind(u) is not None,  # a user without a key opens nothing
        )
        for u in users
    ]


def _secret(kind: CredentialKind, n: int) -> str:
    return {CredentialKind.PASSCODE: f"{n:06d}", CredentialKind.MOBILE_KEY: f"+49151{n:07d}", CredentialKind.CARD: ""}[
        kind
    ]


def _door(access_point: str, gateway: str | None) -> LockRef:
    return lock_ref("salto", access_point, gateway)


@asynccontextmanager
async def salto_harness() -> AsyncIterator[VendorHarness]:
    """Doors ap-101 and ap-102 on gateway gw-7, ap-201 on gw-8, ap-901 out of any gateway's reach; encoder enc-1."""
    sandbox = SaltoSandbox(seed=1234)
    async with sandbox.serve("127.0.0.1", 0) as base_url, httpx.AsyncClient(base_url=base_url) as admin:
        (await admin.post("/sandbox/clients", json=CLIENT)).raise_for_status()
        layout = [("ap-101", "gw-7"), ("ap-102", "gw-7"), ("ap-201", "gw-8")]
        for access_point, gateway in [*layout, ("ap-901", None)]:
            body = {"accessPointId": access_point, "gatewayId": gateway}
            (await admin.post("/sandbox/accesspoints", json=body)).raise_for_status()
        (await admin.post("/sandbox/encoders", json={"encoderId": "enc-1"})).raise_for_status()
        opened: list[SaltoClient] = []

        def make_port(**overrides: Any) -> LockPort:
            clock = overrides.pop("clock", None)
            settings: dict[str, Any] = {
                "base_url": base_url,
                "client_id": CLIENT["clientId"],
                "client_secret": CLIENT["clientSecret"],
                "site_timezone": SITE.key,
                "encoder_id": "enc-1",
            }
            config = SaltoConfig.model_validate(settings | overrides)
            client = SaltoClient(config) if clock is None else SaltoClient(config, clock=clock)
            opened.append(client)
            return client

        try:
            yield VendorHarness(
                vendor="salto",
                port=make_port(),
                admin=admin,
                locks=[_door(access_point, gateway) for access_point, gateway in layout],
                expected_capabilities=Capabilities(
                    kinds=frozenset(CredentialKind), remote_revoke=True, remote_update=True, lists_credentials=True
                ),
                make_port=make_port,
                read_credentials=_read,
                credentials_path=lambda lock: f"/sandbox/accesspoints/{lock.vendor_lock_id}/users",
                offline_gateway=lambda lock: ("/sandbox/gateways", {"gatewayId": lock.gateway_id, "isOnline": False}),
                make_secret=_secret,
                bad_account={"client_secret": "not-the-secret"},
                retry_after_s=1.0,
                unknown_lock=_door("ap-404", "gw-7"),
                lock_without_gateway=_door("ap-901", None),
            )
        finally:
            for client in opened:
                await client.aclose()


SALTO = HarnessEntry(
    start=salto_harness,
    faults={
        "http_5xx": VendorUnavailable,
        "rate_limit": RateLimited,
        "gateway_busy": GatewayBusy,
        "gateway_offline": VendorUnavailable,
        "malformed": VendorUnavailable,
        "duplicate": DuplicateCredential,
    },
)
