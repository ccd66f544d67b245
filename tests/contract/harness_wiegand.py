"""The Generic Wiegand entry of the contract suite: the encoder simulator on ptys, two encoders, four zones."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from adapters.wiegand.client import WiegandClient, WiegandConfig
from adapters.wiegand.sandbox import WiegandSandbox
from app.domain.credential import Capabilities, CredentialKind, LockRef, Validity
from app.domain.errors import DuplicateCredential, GatewayBusy, VendorUnavailable
from app.domain.lock_port import LockPort
from tests.contract.harness import HarnessEntry, SandboxCredential, VendorHarness, lock_ref

FACILITY = 42
ZONES = ["room-101", "room-102", "room-201", "staff"]


def _card_time(text: str) -> datetime:
    # Read independently of the adapter's mapping: the encoder writes YYMMDDhhmmss in UTC.
    return datetime(2000 + int(text[:2]), *(int(text[i : i + 2]) for i in range(2, 12, 2)), tzinfo=UTC)


def _read(cards: list[dict[str, Any]]) -> list[SandboxCredential]:
    return [
        SandboxCredential(
            kind=CredentialKind.CARD,
            label=c["label"],
            validity=Validity(starts_at=_card_time(c["validFrom"]), ends_at=_card_time(c["validUntil"])),
            on_lock=c["facilityCode"] == FACILITY,  # a card of another site's facility code opens nothing here
            revocation_pending=c["blocklisted"],
        )
        for c in cards
    ]


def _zone(zone: str, encoder: str | None) -> LockRef:
    return lock_ref("wiegand", zone, encoder)

CARD_KEY = b"c" * 32  # the contract suite's card-token key


@asynccontextmanager
async def wiegand_harness() -> AsyncIterator[VendorHarness]:
    """Zones room-101 and room-102 served by encoder enc-a, room-201 by enc-b."""
    with tempfile.TemporaryDirectory(prefix="lis-wiegand-") as link_dir:
        sandbox = WiegandSandbox(encoders=["enc-a", "enc-b"], zones=ZONES, link_dir=Path(link_dir), seed=1234)
        async with sandbox.running() as admin_url, httpx.AsyncClient(base_url=admin_url) as admin:
            opened: list[WiegandClient] = []

            def make_port(**overrides: Any) -> LockPort:
                clock = overrides.pop("clock", None)
                settings: dict[str, Any] = {
                    "encoders": {name: sandbox.port_of(name) for name in ("enc-a", "enc-b")},
                    "facility_code": FACILITY,
                    "timeout_s": 1.0,
                }
                config = WiegandConfig.model_validate(settings | overrides)
                client = (WiegandClient(config, card_key=CARD_KEY) if clock is None
                          else WiegandClient(config, card_key=CARD_KEY, clock=clock))
                opened.append(client)
                return client

            layout = [("room-101", "enc-a"), ("room-102", "enc-a"), ("room-201", "enc-b")]
            try:
                yield VendorHarness(
                    vendor="wiegand",
                    port=make_port(),
                    admin=admin,
                    locks=[_zone(zone, encoder) for zone, encoder in layout],
                    expected_capabilities=Capabilities(
                        kinds=frozenset({CredentialKind.CARD}),
                        remote_revoke=False,
                        remote_update=False,
                        lists_credentials=True,
                    ),
                    make_port=make_port,
                    read_credentials=_read,
                    credentials_path=lambda lock: f"/sandbox/zones/{lock.vendor_lock_id}/cards",
                    offline_gateway=lambda lock: (
                        "/sandbox/encoders",
                        {"encoderId": lock.gateway_id, "plugged": False},
                    ),
                    make_secret=lambda kind, n: str(n),
                    reports_battery=False,
                    unknown_lock=_zone("room-999", "enc-a"),
                    lock_without_gateway=_zone("staff", None),
                )
            finally:
                for client in opened:
                    await client.aclose()


WIEGAND = HarnessEntry(
    start=wiegand_harness,
    faults={
        "gateway_busy": GatewayBusy,
        "gateway_offline": VendorUnavailable,
        "malformed": VendorUnavailable,
        "checksum": VendorUnavailable,
        "framing": VendorUnavailable,
        "no_card": VendorUnavailable,
        "duplicate": DuplicateCredential,
    },
)
