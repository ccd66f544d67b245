"""Builds the LockPort of a property's vendor from its sealed account configuration."""

from __future__ import annotations

from typing import Any

import asyncpg
from pydantic import BaseModel

from adapters.postgres.vendor_accounts import load_vendor_account
from adapters.salto.client import SaltoClient, SaltoConfig
from adapters.ttlock.client import TTLockClient, TTLockConfig
from adapters.wiegand.client import WiegandClient, WiegandConfig
from app.domain.credential import Vendor
from app.domain.errors import Unauthorized, Unsupported
from app.domain.lock_port import LockPort
from app.security.envelope import KeyPurpose, KeyStore

# Each vendor's account configuration model: what a directory file's vendor_accounts entry holds.
CONFIG_MODELS: dict[Vendor, type[BaseModel]] = {
    Vendor.TTLOCK: TTLockConfig, Vendor.SALTO: SaltoConfig, Vendor.WIEGAND: WiegandConfig}


def build_port(vendor: Vendor, config: dict[str, Any], *, card_key: bytes) -> LockPort:
    """The adapter for ``vendor`` configured by ``config`` (the account's decrypted settings); ``card_key`` is the
    tenant's card-token key (a Wiegand card's ref is a token made with it)."""
    if vendor is Vendor.TTLOCK:
        return TTLockClient(TTLockConfig.model_validate(config))
    if vendor is Vendor.SALTO:
        return SaltoClient(SaltoConfig.model_validate(config))
    if vendor is Vendor.WIEGAND:
        return WiegandClient(WiegandConfig.model_validate(config), card_key=card_key)
    raise Unsupported(f"no adapter for vendor {vendor}")


class VendorPorts:
    """One adapter per (tenant, property, vendor), created on first use and kept for the worker's life."""

    def __init__(self, pool: asyncpg.Pool, keys: KeyStore) -> None:
        self._pool = pool
        self._keys = keys
        self._ports: dict[tuple[str, str, Vendor], LockPort] = {}

    async def port(self, tenant: str, property_id: str, vendor: Vendor) -> LockPort:
        key = (tenant, property_id, vendor)
        if key not in self._ports:
            config = await load_vendor_account(self._pool, self._keys, tenant, property_id, vendor.value)
            if config is None:
                raise Unauthorized(f"no {vendor} account configured for {tenant}/{property_id}")
            self._ports[key] = build_port(vendor, config,
                                          card_key=self._keys.purpose_key(tenant, KeyPurpose.CARD_TOKEN))
        return self._ports[key]

    async def aclose(self) -> None:
        for port in self._ports.values():
            await port.aclose()
        self._ports.clear()
