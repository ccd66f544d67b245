"""Row-level security: the application role sees and writes only the tenant set for its transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from adapters.postgres.directory import PostgresDirectory, save_property_directory, save_tenant
from adapters.postgres.pool import create_pool, tenant_transaction
from adapters.postgres.vendor_accounts import load_vendor_account, save_vendor_account
from app.devstack.stack import Stack
from app.domain.directory import DirectoryLock, PropertyDirectory
from app.domain.stay_times import PropertyTimes

pytestmark = [pytest.mark.postgres]


@pytest.fixture
async def pool(stack: Stack) -> AsyncIterator[asyncpg.Pool]:
    app_pool = await create_pool(stack.database_url)
    for tenant in ("rls-a", "rls-b"):
        await save_tenant(app_pool, tenant, "eu-west", tenant)
        await save_property_directory(app_pool, PropertyDirectory(
            tenant=tenant, region="eu-west", property="p1", times=PropertyTimes(time_zone="Europe/Berlin"),
            locks=(DirectoryLock(lock_id="door-1", vendor="ttlock", vendor_lock_id="1", room="101"),)))
        await save_vendor_account(app_pool, stack.keys, tenant, "p1", "ttlock", {"client_secret": f"{tenant}-s"})
    yield app_pool
    await app_pool.close()


async def tenant_tables(conn: asyncpg.Connection) -> list[str]:
    rows = await conn.fetch(
        "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'tenant_id'")
    return sorted(r["table_name"] for r in rows)


async def test_every_table_has_row_level_security_enabled_and_forced(stack: Stack) -> None:
    conn = await asyncpg.connect(stack.admin_database_url)
    try:
        rows = await conn.fetch("SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class c "
                                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                                "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')")
        assert rows, "no tables found"
        unprotected = [r["relname"] for r in rows if not (r["relrowsecurity"] and r["relforcerowsecurity"])]
        assert unprotected == []
        role = await conn.fetchrow("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = 'lis_app'")
        assert role is not None
        assert (role["rolsuper"], role["rolbypassrls"]) == (False, False)
    finally:
        await conn.close()


async def test_tenant_a_cannot_read_tenant_b_rows_in_any_table(pool: asyncpg.Pool) -> None:
    async with tenant_transaction(pool, "rls-a") as conn:
        tables = await tenant_tables(conn)
        assert {"tenants", "locks", "vendor_accounts"} <= set(tables)
        for table in tables:
            foreign = await conn.fetchval(f'SELECT count(*) FROM "{table}" WHERE tenant_id <> $1', "rls-a")
            assert foreign == 0, f"{table} leaks another tenant's rows"
        for table in ("tenants", "locks", "vendor_accounts"):
            assert await conn.fetchval(f'SELECT count(*) FROM "{table}"') >= 1, f"{table}: own rows must be visible"


async def test_without_a_tenant_the_application_sees_no_rows(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        for table in await tenant_tables(conn):
            assert await conn.fetchval(f'SELECT count(*) FROM "{table}"') == 0, table


async def test_tenant_a_cannot_write_rows_for_tenant_b(pool: asyncpg.Pool) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with tenant_transaction(pool, "rls-a") as conn:
            await conn.execute("INSERT INTO locks (tenant_id, lock_id, property_id, region, vendor, vendor_lock_id, "
                               "room) VALUES ('rls-b', 'door-9', 'p1', 'eu-west', 'ttlock', '9', '109')")


async def test_directory_and_sealed_accounts_are_tenant_scoped(pool: asyncpg.Pool, stack: Stack) -> None:
    directory = PostgresDirectory(pool)
    found = await directory.property_directory("rls-a", "p1")
    assert found is not None
    assert [lock.lock_id for lock in found.locks] == ["door-1"]
    assert await load_vendor_account(pool, stack.keys, "rls-a", "p1", "ttlock") == {"client_secret": "rls-a-s"}
    async with tenant_transaction(pool, "rls-a") as conn:
        sealed = await conn.fetchval("SELECT sealed FROM vendor_accounts WHERE tenant_id = 'rls-a'")
    assert b"rls-a-s" not in sealed, "the vendor secret is stored in clear"
