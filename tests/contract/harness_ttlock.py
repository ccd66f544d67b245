"""The TTLock entry of the contract suite: the TTLock sandbox with one account and locks on two gateways."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from adapters.ttlock.client import TTLockClient, TTLockConfig
from adapters.ttlock.mapping import from_ms
from adapters.ttlock.sandbox import TTLockSandbox
from app.domain.credential import Capabilities, CredentialKind, Validity
from app.domain.errors import DuplicateCredential, GatewayBusy, GatewayOffline, RateLimited, VendorUnavailable
from app.domain.lock_port import LockPort
from tests.contract.harness import HarnessEntry, SandboxCredential, VendorHarness, lock_ref

ACCOUNT = {"clientId": "app-1", "clientSecret": "s3cret", "username": "hotel_admin", "password": "pa55word"}
_KIND = {"passcode": CredentialKind.PASSCODE, "ekey": CredentialKind.MOBILE_KEY, "card": CredentialKind.CARD}


def _read(entries: list[dict[str, Any]]) -> list[SandboxCredential]:
    return [
        SandboxCredential(
            kind=_KIND[e["kind"]],
            label=e["name"],
            validity=Validity(starts_at=from_ms(e["startDate"]), ends_at=from_ms(e["endDate"]))
            if e["endDate"]
            else None,
            on_lock=e["onLock"],
        )
        for e in entries
    ]


def _secret(kind: CredentialKind, n: int) -> str:
    return {CredentialKind.PASSCODE: f"{n:06d}", CredentialKind.MOBILE_KEY: f"guest{n}", CredentialKind.CARD: f"{n}"}[
        kind
    ]


def _lock(lock_id: int, gateway_id: int | None) -> Any:
    return lock_ref("ttlock", str(lock_id), None if gateway_id is None else str(gateway_id))


@asynccontextmanager
async def ttlock_harness() -> AsyncIterator[VendorHarness]:
    """Two locks on gateway 7, one on gateway 8, a lock without gateway and one without card support."""
    sandbox = TTLockSandbox(seed=1234)
    async with sandbox.serve("127.0.0.1", 0) as base_url, httpx.AsyncClient(base_url=base_url) as admin:
        (await admin.post("/sandbox/accounts", json=ACCOUNT)).raise_for_status()
        layout = [(70001, 7), (70002, 7), (80001, 8)]
        for lock_id, gateway_id in layout:
            (await admin.post("/sandbox/locks", json={"lockId": lock_id, "gatewayId": gateway_id})).raise_for_status()
        (await admin.post("/sandbox/locks", json={"lockId": 90001})).raise_for_status()
        (await admin.post("/sandbox/locks", json={"lockId": 90002, "gatewayId": 9, "cards": False})).raise_for_status()
        opened: list[TTLockClient] = []

        def make_port(**overrides: Any) -> LockPort:
            clock = overrides.pop("clock", None)
            settings: dict[str, Any] = {
                "base_url": base_url,
                "client_id": ACCOUNT["clientId"],
                "client_secret": ACCOUNT["clientSecret"],
                "username": ACCOUNT["username"],
                "password": ACCOUNT["password"],
            }
            config = TTLockConfig.model_validate(settings | overrides)
            client = TTLockClient(config) if clock is None else TTLockClient(config, clock=clock)
            opened.append(client)
            return client

        try:
            yield VendorHarness(
                vendor="ttlock",
                port=make_port(),
                admin=admin,
                locks=[_lock(lock_id, gateway_id) for lock_id, gateway_id in layout],
                expected_capabilities=Capabilities(
                    kinds=frozenset(CredentialKind), remote_revoke=True, remote_update=True, lists_credentials=True,
                    offline_passcodes=True,
                ),
                make_port=make_port,
                read_credentials=_read,
                credentials_path=lambda lock: f"/sandbox/locks/{lock.vendor_lock_id}/credentials",
                offline_gateway=lambda lock: (
                    "/sandbox/gateways",
                    {"gatewayId": int(lock.gateway_id or 0), "isOnline": False},
                ),
                make_secret=_secret,
                bad_account={"password": "not-the-password"},
                passcode_limit=250,
                clock_checked=True,
                unknown_lock=_lock(99999, 7),
                lock_without_gateway=_lock(90001, None),
                lock_without_cards=_lock(90002, 9),
            )
        finally:
            for client in opened:
                await client.aclose()


TTLOCK = HarnessEntry(
    start=ttlock_harness,
    faults={
        "http_5xx": VendorUnavailable,
        "rate_limit": RateLimited,
        "gateway_busy": GatewayBusy,
        "gateway_offline": GatewayOffline,
        "malformed": VendorUnavailable,
        "duplicate": DuplicateCredential,
    },
)
