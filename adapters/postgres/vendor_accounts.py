"""Vendor account configuration (client ids, secrets, passwords) stored sealed per tenant and property."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from adapters.postgres.pool import tenant_transaction
from app.security.envelope import KeyStore, open_sealed, seal


def _binding(property_id: str, vendor: str) -> str:
    return f"vendor_account:{property_id}:{vendor}"


async def save_vendor_account(
    pool: asyncpg.Pool, keys: KeyStore, tenant: str, property_id: str, vendor: str, config: dict[str, Any]
) -> None:
    """Seal ``config`` with the tenant's key and store it; the plaintext never reaches the database."""
    sealed = seal(keys, tenant, _binding(property_id, vendor), json.dumps(config).encode())
    async with tenant_transaction(pool, tenant) as conn:
        await conn.execute(
            "INSERT INTO vendor_accounts (tenant_id, property_id, vendor, sealed) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (tenant_id, property_id, vendor) DO UPDATE SET sealed = EXCLUDED.sealed",
            tenant, property_id, vendor, sealed)


async def load_vendor_account(
    pool: asyncpg.Pool, keys: KeyStore, tenant: str, property_id: str, vendor: str
) -> dict[str, Any] | None:
    async with tenant_transaction(pool, tenant) as conn:
        sealed = await conn.fetchval(
            "SELECT sealed FROM vendor_accounts WHERE tenant_id = $1 AND property_id = $2 AND vendor = $3",
            tenant, property_id, vendor)
    if sealed is None:
        return None
    config: dict[str, Any] = json.loads(open_sealed(keys, tenant, _binding(property_id, vendor), sealed))
    return config
