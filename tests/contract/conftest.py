"""The vendor harness of the LockPort contract suite.

``vendor_port`` runs every contract test once per vendor. Each vendor contributes one entry to ``HARNESSES``: an async
context manager that starts its real sandbox on 127.0.0.1, provisions locks through the sandbox's admin API over HTTP,
and yields a :class:`VendorHarness`. Adding Salto or Wiegand means adding an entry here, not a test file.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from adapters.ttlock.client import TTLockClient, TTLockConfig
from adapters.ttlock.mapping import from_ms
from adapters.ttlock.sandbox import TTLockSandbox
from app.domain.credential import Capabilities, CredentialKind, LockRef, Validity, Vendor
from app.domain.lock_port import LockPort


@dataclass(frozen=True)
class SandboxCredential:
    """A credential as the sandbox stores it, in canonical terms so tests read the same for every vendor."""

    kind: CredentialKind
    label: str
    validity: Validity | None
    on_lock: bool  # False: the vendor cloud lists it but the lock never received it


@dataclass
class VendorHarness:
    """One vendor's adapter wired to its running sandbox, plus the sandbox's admin API for set-up and inspection."""

    vendor: Vendor
    port: LockPort
    admin: httpx.AsyncClient  # base_url is the sandbox; talks only to ``/sandbox/``
    locks: list[LockRef]
    expected_capabilities: Capabilities
    make_port: Callable[..., LockPort]  # another adapter on the same sandbox, e.g. make_port(timeout_s=0.2)
    read_credentials: Callable[[list[dict[str, Any]]], list[SandboxCredential]]
    credentials_path: Callable[[LockRef], str]
    offline_gateway: Callable[[LockRef], dict[str, Any]]  # admin body that takes the lock's gateway offline
    account: dict[str, str]  # the vendor account the adapter uses, for wire-level sandbox tests
    passcode_limit: int | None = None  # the vendor's per-lock passcode limit, None when it has none
    clock_checked: bool = False  # the vendor refuses requests whose timestamp is skewed
    unknown_lock: LockRef | None = None
    lock_without_gateway: LockRef | None = None
    lock_without_cards: LockRef | None = None
    _pins: itertools.count[int] = field(default_factory=lambda: itertools.count(4711))

    def lock(self, i: int) -> LockRef:
        """The i-th provisioned lock; locks 0 and 1 share one gateway."""
        return self.locks[i]

    def secret(self, kind: CredentialKind) -> str | None:
        """A fresh vendor-acceptable secret for a credential of this kind (PIN, receiver, card number)."""
        n = next(self._pins)
        return {
            CredentialKind.PASSCODE: f"{n:06d}",
            CredentialKind.MOBILE_KEY: f"guest{n}",
            CredentialKind.CARD: f"{n}",
        }[kind]

    async def sandbox_credentials(self, lock: LockRef, *, include_cloud_only: bool = False) -> list[SandboxCredential]:
        """What the sandbox really holds for the lock, through its HTTP inspection API."""
        params = {"all": "1"} if include_cloud_only else {}
        response = await self.admin.get(self.credentials_path(lock), params=params)
        response.raise_for_status()
        return self.read_credentials(response.json())

    async def inject(
        self, mode: str, *, rate: float = 1.0, count: int | None = None, latency_ms: int | None = None
    ) -> None:
        """Arm a fault in the sandbox through its HTTP fault API."""
        body = {"mode": mode, "rate": rate, "count": count, "latencyMs": latency_ms}
        (await self.admin.post("/sandbox/faults", json=body)).raise_for_status()

    async def clear_faults(self) -> None:
        """Disarm every fault."""
        (await self.admin.delete("/sandbox/faults")).raise_for_status()

    async def take_gateway_offline(self, lock: LockRef) -> None:
        """Switch the gateway of ``lock`` off through the admin API."""
        (await self.admin.post("/sandbox/gateways", json=self.offline_gateway(lock))).raise_for_status()

    async def stats(self) -> dict[str, Any]:
        """The sandbox's call and credential counters."""
        response = await self.admin.get("/sandbox/stats")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result


def _ttlock_lock(lock_id: int, gateway_id: int | None) -> LockRef:
    return LockRef(
        tenant="tenant-a",
        region="eu",
        property="hotel-1",
        lock_id=f"room-{lock_id}",
        vendor=Vendor.TTLOCK,
        vendor_lock_id=str(lock_id),
        gateway_id=None if gateway_id is None else str(gateway_id),
    )


_TTLOCK_KIND = {"passcode": CredentialKind.PASSCODE, "ekey": CredentialKind.MOBILE_KEY, "card": CredentialKind.CARD}


def _read_ttlock_credentials(entries: list[dict[str, Any]]) -> list[SandboxCredential]:
    return [
        SandboxCredential(
            kind=_TTLOCK_KIND[e["kind"]],
            label=e["name"],
            validity=Validity(starts_at=from_ms(e["startDate"]), ends_at=from_ms(e["endDate"]))
            if e["endDate"]
            else None,
            on_lock=e["onLock"],
        )
        for e in entries
    ]


@asynccontextmanager
async def ttlock_harness() -> AsyncIterator[VendorHarness]:
    """A TTLock sandbox with one account, two locks on gateway 7, one on gateway 8, and edge-case locks."""
    sandbox = TTLockSandbox(seed=1234)
    async with sandbox.serve("127.0.0.1", 0) as base_url, httpx.AsyncClient(base_url=base_url) as admin:
        account = {"clientId": "app-1", "clientSecret": "s3cret", "username": "hotel_admin", "password": "pa55word"}
        (await admin.post("/sandbox/accounts", json=account)).raise_for_status()
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
                "client_id": account["clientId"],
                "client_secret": account["clientSecret"],
                "username": account["username"],
                "password": account["password"],
            }
            config = TTLockConfig.model_validate(settings | overrides)
            client = TTLockClient(config) if clock is None else TTLockClient(config, clock=clock)
            opened.append(client)
            return client

        harness = VendorHarness(
            vendor=Vendor.TTLOCK,
            port=make_port(),
            admin=admin,
            locks=[_ttlock_lock(lock_id, gateway_id) for lock_id, gateway_id in layout],
            expected_capabilities=Capabilities(
                kinds=frozenset(CredentialKind), remote_revoke=True, remote_update=True, lists_credentials=True
            ),
            make_port=make_port,
            read_credentials=_read_ttlock_credentials,
            credentials_path=lambda lock: f"/sandbox/locks/{lock.vendor_lock_id}/credentials",
            offline_gateway=lambda lock: {"gatewayId": int(lock.gateway_id or 0), "isOnline": False},
            account=account,
            passcode_limit=250,
            clock_checked=True,
            unknown_lock=_ttlock_lock(99999, 7),
            lock_without_gateway=_ttlock_lock(90001, None),
            lock_without_cards=_ttlock_lock(90002, 9),
        )
        try:
            yield harness
        finally:
            for client in opened:
                await client.aclose()


HARNESSES: dict[str, Callable[[], AbstractAsyncContextManager[VendorHarness]]] = {
    "ttlock": ttlock_harness,
}


@pytest.fixture(params=sorted(HARNESSES))
async def vendor_port(request: pytest.FixtureRequest) -> AsyncIterator[VendorHarness]:
    """A fresh sandbox and adapter per test, once for every vendor in ``HARNESSES``."""
    async with HARNESSES[request.param]() as harness:
        yield harness
