"""The toy vendor in the LockPort contract suite (``LIS_CONTRACT_HARNESSES=tests.toy_vendor.harness:TOY``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import httpx

from app.domain.credential import CredentialKind, LockRef, Validity
from app.domain.errors import RateLimited, VendorUnavailable
from app.domain.lock_port import LockPort
from tests.contract.harness import HarnessEntry, SandboxCredential, VendorHarness, lock_ref
from tests.toy_vendor.client import CAPABILITIES, ToyClient, ToyConfig
from tests.toy_vendor.sandbox import RETRY_AFTER_S, ToySandbox


def _read(codes: list[dict[str, Any]]) -> list[SandboxCredential]:
    return [SandboxCredential(kind=CredentialKind.PASSCODE, label=c["label"], on_lock=True,
                              validity=Validity(starts_at=datetime.fromisoformat(c["starts"]),
                                                ends_at=datetime.fromisoformat(c["ends"])))
            for c in codes]


def _lock(lock_id: str, gateway: str | None) -> LockRef:
    return lock_ref("toy", lock_id, gateway)


@asynccontextmanager
async def toy_harness() -> AsyncIterator[VendorHarness]:
    """Two locks on gateway g1, one on g2, and one lock without a gateway."""
    sandbox = ToySandbox()
    async with sandbox.serve("127.0.0.1", 0) as base_url, httpx.AsyncClient(base_url=base_url) as admin:
        layout = [("t-1", "g1"), ("t-2", "g1"), ("t-3", "g2"), ("t-4", None)]
        for lock_id, gateway in layout:
            (await admin.post("/sandbox/locks", json={"lockId": lock_id, "gatewayId": gateway})).raise_for_status()
        opened: list[ToyClient] = []

        def make_port(**overrides: Any) -> LockPort:
            client = ToyClient(ToyConfig.model_validate({"base_url": base_url} | overrides))
            opened.append(client)
            return client

        try:
            yield VendorHarness(
                vendor="toy", port=make_port(), admin=admin,
                locks=[_lock(lock_id, gateway) for lock_id, gateway in layout[:3]],
                expected_capabilities=CAPABILITIES, make_port=make_port, read_credentials=_read,
                credentials_path=lambda lock: f"/sandbox/locks/{lock.vendor_lock_id}/credentials",
                offline_gateway=lambda lock: ("/sandbox/gateways", {"gatewayId": lock.gateway_id, "online": False}),
                make_secret=lambda kind, n: f"{n:06d}", retry_after_s=RETRY_AFTER_S, reports_battery=True,
                unknown_lock=_lock("t-404", "g1"), lock_without_gateway=_lock("t-4", None))
        finally:
            for client in opened:
                await client.aclose()


TOY = HarnessEntry(start=toy_harness, faults={"http_5xx": VendorUnavailable, "rate_limit": RateLimited})
