"""The lock directory in PostgreSQL, and its loader from a YAML/JSON file for development."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg
import yaml
from pydantic import ValidationError

from adapters.postgres.pool import tenant_transaction
from app.domain.credential import OfflineFallback
from app.domain.directory import DirectoryLock, PropertyDirectory
from app.domain.stay_times import PropertyTimes


class PostgresDirectory:
    """Implements :class:`app.domain.directory.LockDirectory`. Each property is cached for the worker's life: an edited
    directory reaches a worker when it restarts."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._cache: dict[tuple[str, str], PropertyDirectory | None] = {}

    async def property_directory(self, tenant: str, property_id: str) -> PropertyDirectory | None:
        cached = self._cache.get((tenant, property_id))
        if cached is not None:
            return cached
        async with tenant_transaction(self._pool, tenant) as conn:
            region = await conn.fetchval("SELECT region FROM tenants WHERE tenant_id = $1", tenant)
            rows = await conn.fetch(
                "SELECT lock_id, vendor, vendor_lock_id, gateway_id, room, area, guest_access, synthetic FROM locks "
                "WHERE tenant_id = $1 AND property_id = $2 ORDER BY lock_id", tenant, property_id)
            settings = await conn.fetchrow(
                "SELECT time_zone, check_in, check_out, early_check_in, late_checkout, room_policy, "
                "offline_after_minutes, offline_arrival_within_minutes FROM properties "
                "WHERE tenant_id = $1 AND property_id = $2", tenant, property_id)
        if region is None or not rows or settings is None:
            return None
        fields = dict(settings)
        after, arrival = fields.pop("offline_after_minutes"), fields.pop("offline_arrival_within_minutes")
        fallback = None if after is None else OfflineFallback(after_minutes=after, arrival_within_minutes=arrival)
        directory = PropertyDirectory(tenant=tenant, region=region, property=property_id,
                                      locks=tuple(DirectoryLock(**dict(row)) for row in rows),
                                      room_policy=fields.pop("room_policy"), times=PropertyTimes(**fields),
                                      offline_fallback=fallback)
        self._cache[(tenant, property_id)] = directory
        return directory


async def synthetic_properties(pool: asyncpg.Pool, tenant: str) -> list[str]:
    """The tenant's properties that have a test lock for the synthetic vendor checks."""
    async with tenant_transaction(pool, tenant) as conn:
        rows = await conn.fetch("SELECT DISTINCT property_id FROM locks WHERE tenant_id = $1 AND synthetic "
                                "ORDER BY property_id", tenant)
    return [row["property_id"] for row in rows]


async def save_tenant(pool: asyncpg.Pool, tenant: str, region: str, name: str) -> None:
    async with tenant_transaction(pool, tenant) as conn:
        await conn.execute(
            "INSERT INTO tenants (tenant_id, region, name) VALUES ($1, $2, $3) "
            "ON CONFLICT (tenant_id) DO UPDATE SET region = EXCLUDED.region, name = EXCLUDED.name",
            tenant, region, name)


async def save_property_directory(pool: asyncpg.Pool, directory: PropertyDirectory) -> None:
    """Store one property's settings and replace its locks with ``directory``'s, in one transaction."""
    times = directory.times
    if times is None:
        raise ValueError(f"property {directory.property} of {directory.tenant} has no time zone: it is required")
    async with tenant_transaction(pool, directory.tenant) as conn:
        await conn.execute(
            "INSERT INTO properties (tenant_id, property_id, time_zone, check_in, check_out, early_check_in, "
            "late_checkout, room_policy, offline_after_minutes, offline_arrival_within_minutes) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (tenant_id, property_id) "
            "DO UPDATE SET time_zone = EXCLUDED.time_zone, check_in = EXCLUDED.check_in, check_out = "
            "EXCLUDED.check_out, early_check_in = EXCLUDED.early_check_in, late_checkout = EXCLUDED.late_checkout, "
            "room_policy = EXCLUDED.room_policy, offline_after_minutes = EXCLUDED.offline_after_minutes, "
            "offline_arrival_within_minutes = EXCLUDED.offline_arrival_within_minutes",
            directory.tenant, directory.property, times.time_zone, times.check_in, times.check_out,
            times.early_check_in, times.late_checkout, directory.room_policy.value,
            fallback.after_minutes if (fallback := directory.offline_fallback) else None,
            fallback.arrival_within_minutes if fallback else None)
        await conn.execute("DELETE FROM locks WHERE tenant_id = $1 AND property_id = $2",
                           directory.tenant, directory.property)
        await conn.executemany(
            "INSERT INTO locks (tenant_id, lock_id, property_id, region, vendor, vendor_lock_id, gateway_id, room, "
            "area, guest_access, synthetic) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            [(directory.tenant, lock.lock_id, directory.property, directory.region, lock.vendor,
              lock.vendor_lock_id, lock.gateway_id, lock.room, lock.area, lock.guest_access, lock.synthetic)
             for lock in directory.locks])


def load_directory_file(path: Path) -> list[dict[str, Any]]:
    """Read a directory file: a list of tenants, each with ``tenant``, ``region``, ``name`` and ``properties``
    (each ``{property, time_zone, locks: [...], vendor_accounts: {vendor: {...}}}`` and optionally ``check_in``,
    ``check_out``, ``early_check_in``, ``late_checkout`` (local ``HH:MM``), ``room_policy`` (``partial``, the
    default, or ``all_or_nothing``) and ``offline_fallback`` (``{after_minutes, arrival_within_minutes}``)).
    ``time_zone`` (an IANA name) is required."""
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of tenants")
    return data


def property_from_file(tenant: dict[str, Any], prop: dict[str, Any]) -> PropertyDirectory:
    """One property of a directory file as the domain's directory; ValueError naming what is missing or wrong."""
    where = f"property {prop.get('property')!r} of tenant {tenant.get('tenant')!r}"
    if not prop.get("time_zone"):
        raise ValueError(f"{where}: time_zone is required (an IANA name such as Europe/Berlin)")
    times = {name: prop[name] for name in ("time_zone", "check_in", "check_out", "early_check_in", "late_checkout")
             if name in prop}
    try:
        return PropertyDirectory(tenant=tenant["tenant"], region=tenant["region"], property=prop["property"],
                                 locks=tuple(prop["locks"]), room_policy=prop.get("room_policy", "partial"),
                                 times=PropertyTimes(**times), offline_fallback=prop.get("offline_fallback"))
    except ValidationError as err:
        raise ValueError(f"{where}: {err}") from err
