"""What the LockPort contract suite needs from each vendor: its adapter on its running sandbox, and the sandbox's
admin API for set-up, fault injection and inspection, in canonical terms so tests read the same for every vendor."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

import httpx

from app.domain.credential import Capabilities, CredentialKind, LockRef, Validity, VendorName
from app.domain.errors import LockError
from app.domain.lock_port import LockPort


@dataclass(frozen=True)
class SandboxCredential:
    """A credential as the sandbox stores it."""

    kind: CredentialKind
    label: str
    validity: Validity | None
    on_lock: bool  # False: the vendor lists it but it opens nothing (never reached the lock, or carries no key)
    revocation_pending: bool = False  # revoked, but the offline lock learns it only from a later card or expiry


@dataclass
class VendorHarness:
    """One vendor's adapter wired to its running sandbox."""

    vendor: VendorName
    port: LockPort
    admin: httpx.AsyncClient  # base_url is the sandbox's admin API (``/sandbox/``)
    locks: list[LockRef]  # locks 0 and 1 share one gateway (or encoder), lock 2 has another
    expected_capabilities: Capabilities
    make_port: Callable[..., LockPort]  # another adapter on the same sandbox, e.g. make_port(timeout_s=0.2)
    read_credentials: Callable[[list[dict[str, Any]]], list[SandboxCredential]]
    credentials_path: Callable[[LockRef], str]
    offline_gateway: Callable[[LockRef], tuple[str, dict[str, Any]]]  # admin path and body taking it offline
    make_secret: Callable[[CredentialKind, int], str]  # a vendor-acceptable secret (PIN, receiver, card number)
    bad_account: dict[str, Any] | None = None  # make_port overrides the vendor refuses; None: no account at all
    retry_after_s: float | None = None  # the Retry-After the sandbox sends with a rate limit, if the vendor has one
    passcode_limit: int | None = None  # the vendor's per-lock passcode limit, None when it has none
    clock_checked: bool = False  # the vendor refuses requests whose timestamp is skewed
    reports_battery: bool = True
    unknown_lock: LockRef | None = None
    lock_without_gateway: LockRef | None = None
    lock_without_cards: LockRef | None = None
    _serial: int = field(default=4711)

    @property
    def default_kind(self) -> CredentialKind:
        """The kind used where a test needs any credential: a passcode where the vendor issues them."""
        kinds = self.port.capabilities.kinds
        return CredentialKind.PASSCODE if CredentialKind.PASSCODE in kinds else min(kinds)

    def lock(self, i: int) -> LockRef:
        """The i-th provisioned lock."""
        return self.locks[i]

    def secret(self, kind: CredentialKind) -> str:
        """A fresh vendor-acceptable secret for a credential of this kind."""
        self._serial += 1
        return self.make_secret(kind, self._serial)

    async def sandbox_credentials(self, lock: LockRef, *, include_cloud_only: bool = False) -> list[SandboxCredential]:
        """What the sandbox really holds for the lock, through its HTTP inspection API."""
        params = {"all": "1"} if include_cloud_only else {}
        response = await self.admin.get(self.credentials_path(lock), params=params)
        response.raise_for_status()
        found = self.read_credentials(response.json())
        return found if include_cloud_only else [c for c in found if c.on_lock]

    async def inject(
        self, mode: str, *, rate: float = 1.0, count: int | None = None, latency_ms: int | None = None,
        only: str | None = None,
    ) -> None:
        """Arm a fault in the sandbox through its HTTP fault API."""
        body = {"mode": mode, "rate": rate, "count": count, "latencyMs": latency_ms, "only": only}
        (await self.admin.post("/sandbox/faults", json=body)).raise_for_status()

    async def take_gateway_offline(self, lock: LockRef, *, back: bool = False) -> None:
        """Switch the gateway (or encoder) of ``lock`` off (``back``: on again) through the admin API."""
        path, body = self.offline_gateway(lock)
        if back:
            body = {name: True if value is False else value for name, value in body.items()}
        (await self.admin.post(path, json=body)).raise_for_status()

    async def stats(self) -> dict[str, Any]:
        """The sandbox's call and credential counters."""
        response = await self.admin.get("/sandbox/stats")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result


@dataclass(frozen=True)
class HarnessEntry:
    """A vendor of the contract suite: how to start its harness, and every fault its sandbox injects as a failure
    with the canonical error the adapter must turn it into."""

    start: Callable[[], AbstractAsyncContextManager[VendorHarness]]
    faults: dict[str, type[LockError]]


def lock_ref(vendor: VendorName, vendor_lock_id: str, gateway_id: str | None, lock_id: str | None = None) -> LockRef:
    """A lock of the contract tenant's hotel."""
    return LockRef(
        tenant="tenant-a",
        region="eu",
        property="hotel-1",
        lock_id=lock_id or f"room-{vendor_lock_id}",
        vendor=vendor,
        vendor_lock_id=vendor_lock_id,
        gateway_id=gateway_id,
    )


@dataclass
class FixedMaterial:
    """The vendor caller's credential material from a plain function of (lock, record, attempt); card numbers are
    nobody's to hold here."""

    secret_of: Callable[[LockRef, Any, int], str | None]

    async def secret(self, lock: LockRef, record: Any, attempt: int) -> str | None:
        return self.secret_of(lock, record, attempt)

    async def hold(self, lock: LockRef, record: Any, validity: Validity) -> None:
        return None

    def seal_code(self, lock: LockRef, record: Any, code: str) -> str:
        return f"sealed:{code}"  # the contract checks which digits are sealed, not the sealing
