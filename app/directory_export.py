"""``lis directory export``: a tenant's lock directory as it is in PostgreSQL, written back in the directory file
format (docs/DIRECTORY.md) — with every secret of a vendor account as a ``${NAME}`` reference, never in clear.

The secrets are the ``SecretStr`` fields of the vendor's account model (its spec's ``config_model``); their
reference names are ``LIS_<TENANT>_<PROPERTY>_<VENDOR>_<FIELD>`` in upper case, which ``lis directory load`` resolves
from the environment. Loading the export with those variables set gives back the same directory and the same accounts.
"""

from __future__ import annotations

import re
from typing import Any

import asyncpg
from pydantic import SecretStr

from adapters.postgres.directory import PostgresDirectory
from adapters.postgres.pool import tenant_transaction
from adapters.postgres.vendor_accounts import load_vendor_account
from adapters.registry import INSTALLED
from app.domain.directory import PropertyDirectory
from app.security.envelope import KeyStore


def secret_reference(tenant: str, property_id: str, vendor: str, field: str) -> str:
    """The environment variable a secret of an exported account is referenced by."""
    return "LIS_" + re.sub(r"[^A-Z0-9]+", "_", f"{tenant}_{property_id}_{vendor}_{field}".upper())


async def export_tenant(pool: asyncpg.Pool, keys: KeyStore, tenant: str) -> list[dict[str, Any]]:
    """The tenant's entry of a directory file (a list of one tenant), secrets as references."""
    async with tenant_transaction(pool, tenant) as conn:
        row = await conn.fetchrow("SELECT region, name FROM tenants WHERE tenant_id = $1", tenant)
        properties = [r[0] for r in await conn.fetch(
            "SELECT property_id FROM properties WHERE tenant_id = $1 ORDER BY property_id", tenant)]
        vendors = {(r[0], r[1]) for r in await conn.fetch(
            "SELECT property_id, vendor FROM vendor_accounts WHERE tenant_id = $1", tenant)}
    if row is None:
        raise LookupError(f"no tenant {tenant!r} in the lock directory")
    directory = PostgresDirectory(pool)
    entries = []
    for property_id in properties:
        found = await directory.property_directory(tenant, property_id)
        if found is None:
            continue
        accounts = {vendor: await _account(pool, keys, tenant, property_id, vendor)
                    for vendor in sorted(v for p, v in vendors if p == property_id)}
        entries.append(_property_entry(found, accounts))
    return [{"tenant": tenant, "region": row["region"], "name": row["name"], "properties": entries}]


async def _account(pool: asyncpg.Pool, keys: KeyStore, tenant: str, property_id: str, vendor: str
                   ) -> dict[str, Any]:
    config = await load_vendor_account(pool, keys, tenant, property_id, vendor) or {}
    model = INSTALLED.spec(vendor).config_model
    secrets = {name for name, field in model.model_fields.items() if field.annotation in (SecretStr, SecretStr | None)}
    return {name: f"${{{secret_reference(tenant, property_id, vendor, name)}}}" if name in secrets else value
            for name, value in config.items()}


def _property_entry(directory: PropertyDirectory, accounts: dict[str, dict[str, Any]]) -> dict[str, Any]:
    times = directory.times
    entry: dict[str, Any] = {"property": directory.property}
    if times is not None:
        entry |= {"time_zone": times.time_zone, "check_in": f"{times.check_in:%H:%M}",
                  "check_out": f"{times.check_out:%H:%M}", "early_check_in": f"{times.early_check_in:%H:%M}",
                  "late_checkout": f"{times.late_checkout:%H:%M}"}
    entry["room_policy"] = str(directory.room_policy)
    if directory.offline_fallback is not None:
        entry["offline_fallback"] = directory.offline_fallback.model_dump()
    entry["locks"] = [lock.model_dump(mode="json", exclude_none=True) for lock in directory.locks]
    entry["vendor_accounts"] = accounts
    return entry
