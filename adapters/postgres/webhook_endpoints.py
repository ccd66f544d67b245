"""Webhook endpoints in PostgreSQL: each tenant's sealed webhook secrets per vendor, the directory lookup that turns
a vendor's lock id into the tenant's lock, and the receipts that make a webhook id single-use.

Secrets are sealed with the tenant's key (envelope encryption, :mod:`app.security.envelope`) before they reach the
database, bound to tenant and vendor; the plaintext exists only in the ingress's memory.

:func:`held_receipt` inserts the receipt inside a transaction and keeps it open while the caller produces the webhook
to Kafka; the receipt is committed only when the caller's block ends normally (the broker acknowledged), and rolled
back when it raises. So a webhook whose production failed leaves no receipt and its retry is accepted, while a second
delivery of an accepted one finds the receipt. Two concurrent deliveries of one id serialise on the primary key: the
second waits for the first transaction and then sees its receipt, or none if it rolled back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import asyncpg

from adapters.postgres.pool import tenant_transaction
from app.security.envelope import KeyStore, open_sealed, seal
from app.security.webhook_signature import REVEAL, EndpointSecrets


@dataclass(frozen=True)
class VendorLock:
    """A directory lock found by its vendor id: where its events go (region) and whose vendor account it uses."""

    lock_id: str
    property: str
    region: str


def _binding(vendor: str) -> str:
    return f"webhook_endpoint:{vendor}"


async def save_webhook_endpoint(pool: asyncpg.Pool, keys: KeyStore, tenant: str, vendor: str,
                                secrets: EndpointSecrets) -> None:
    """Seal ``secrets`` with the tenant's key and store them as the tenant's endpoint for ``vendor``."""
    sealed = seal(keys, tenant, _binding(vendor), secrets.model_dump_json(context=REVEAL).encode())
    async with tenant_transaction(pool, tenant) as conn:
        await conn.execute(
            "INSERT INTO webhook_endpoints (tenant_id, vendor, sealed) VALUES ($1, $2, $3) "
            "ON CONFLICT (tenant_id, vendor) DO UPDATE SET sealed = EXCLUDED.sealed, updated_at = now()",
            tenant, vendor, sealed)


async def load_webhook_endpoint(pool: asyncpg.Pool, keys: KeyStore, tenant: str,
                                vendor: str) -> EndpointSecrets | None:
    """The tenant's secrets for ``vendor``, or None when the tenant has no such endpoint."""
    async with tenant_transaction(pool, tenant) as conn:
        sealed = await conn.fetchval(
            "SELECT sealed FROM webhook_endpoints WHERE tenant_id = $1 AND vendor = $2", tenant, vendor)
    if sealed is None:
        return None
    return EndpointSecrets.model_validate_json(open_sealed(keys, tenant, _binding(vendor), sealed))


async def find_vendor_locks(pool: asyncpg.Pool, tenant: str, vendor: str, vendor_lock_id: str) -> list[VendorLock]:
    """The tenant's directory locks that ``vendor`` calls ``vendor_lock_id``: one, or none; two (of two properties)
    when the directory gives the id twice, which only a vendor without webhooks may."""
    async with tenant_transaction(pool, tenant) as conn:
        rows = await conn.fetch(
            "SELECT lock_id, property_id, region FROM locks "
            "WHERE tenant_id = $1 AND vendor = $2 AND vendor_lock_id = $3 ORDER BY lock_id LIMIT 2",
            tenant, vendor, vendor_lock_id)
    return [VendorLock(lock_id=row["lock_id"], property=row["property_id"], region=row["region"]) for row in rows]


class AlreadyReceived(Exception):
    """The webhook id was accepted before (a replay, or a retry of a delivery whose answer the sender lost)."""


@asynccontextmanager
async def held_receipt(pool: asyncpg.Pool, tenant: str, vendor: str, webhook_id: str,
                       lock_id: str) -> AsyncIterator[None]:
    """Hold a fresh receipt of ``webhook_id`` while the block runs; raise :class:`AlreadyReceived` if it exists."""
    async with tenant_transaction(pool, tenant) as conn:
        fresh = await conn.fetchval(
            "INSERT INTO webhook_receipts (tenant_id, vendor, webhook_id, lock_id) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (tenant_id, vendor, webhook_id) DO NOTHING RETURNING true",
            tenant, vendor, webhook_id, lock_id)
        if not fresh:
            raise AlreadyReceived(webhook_id)
        yield


async def prune_receipts(pool: asyncpg.Pool, tenant: str, older_than: timedelta) -> int:
    """Delete the tenant's receipts older than ``older_than``; returns how many went."""
    async with tenant_transaction(pool, tenant) as conn:
        status: str = await conn.execute(
            "DELETE FROM webhook_receipts WHERE tenant_id = $1 AND received_at < now() - $2::interval",
            tenant, older_than)
    return int(status.rsplit(" ", 1)[-1])


async def receipt_count(pool: asyncpg.Pool, tenant: str, vendor: str, webhook_id: str) -> int:
    """How many receipts of ``webhook_id`` the tenant holds (0 or 1; for operators and tests)."""
    async with tenant_transaction(pool, tenant) as conn:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM webhook_receipts WHERE tenant_id = $1 AND vendor = $2 AND webhook_id = $3",
            tenant, vendor, webhook_id)
    return count
