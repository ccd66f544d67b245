"""lock_audit and lock_audit_nodes are append-only in the database itself: the application role lacks the
privileges, a trigger refuses every role, the tables' owner included, and only a superuser can disable it: the
owner is a role nobody logs in as, so neither the application role nor a migration login role that owns every other
table can."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from adapters.postgres.audit_store import AuditStore
from adapters.postgres.pool import create_pool, tenant_transaction
from app.devstack.stack import Stack
from tests.unit.test_audit_leaves import leaves_of

pytestmark = [pytest.mark.postgres]

TABLES = ("lock_audit", "lock_audit_nodes")
CHANGES = {
    "UPDATE": "UPDATE {table} SET tenant_id = tenant_id WHERE tenant_id = $1",
    "DELETE": "DELETE FROM {table} WHERE tenant_id = $1",
    "TRUNCATE": "TRUNCATE {table}",
}


@pytest.fixture
async def tenant(stack: Stack) -> str:
    """A tenant with a few leaves, so every refused statement had rows it could have changed."""
    name = f"immutable-{uuid.uuid4().hex[:8]}"
    pool = await create_pool(stack.database_url, max_size=2)
    await AuditStore(pool).append(name, leaves_of(name, 5))
    await pool.close()
    return name


async def count_rows(admin: asyncpg.Connection, tenant: str) -> tuple[int, int]:
    leaves = await admin.fetchval("SELECT count(*) FROM lock_audit WHERE tenant_id = $1", tenant)
    nodes = await admin.fetchval("SELECT count(*) FROM lock_audit_nodes WHERE tenant_id = $1", tenant)
    return leaves, nodes


@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("change", CHANGES)
async def test_the_application_role_has_no_privilege_to_change_a_row(stack: Stack, tenant: str, table: str,
                                                                    change: str) -> None:
    pool = await create_pool(stack.database_url, max_size=1)
    try:
        statement = CHANGES[change].format(table=table)
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match=f"permission denied for table {table}"):
            async with tenant_transaction(pool, tenant) as conn:
                await conn.execute(statement, *([tenant] if "$1" in statement else []))
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="must be owner"):
            async with tenant_transaction(pool, tenant) as conn:
                await conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
    finally:
        await pool.close()


@pytest.mark.parametrize("replica", [False, True], ids=["origin", "replica-role"])
@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("change", CHANGES)
async def test_the_owner_is_refused_by_the_trigger(stack: Stack, tenant: str, table: str, change: str,
                                                   replica: bool) -> None:
    admin = await asyncpg.connect(stack.admin_database_url)
    try:
        assert await admin.fetchval("SELECT tableowner FROM pg_tables WHERE tablename = $1", table) == "lis_audit_owner"
        before = await count_rows(admin, tenant)
        statement = CHANGES[change].format(table=table)
        if replica:  # replication mode skips ordinary triggers; this one is enabled ALWAYS
            await admin.execute("SET session_replication_role = replica")
        await admin.execute("SET ROLE lis_audit_owner")  # act as the owner (no one can log in as it)
        await admin.execute("SELECT set_config('app.tenant_id', $1, false)", tenant)  # the owner is under RLS too
        with pytest.raises(asyncpg.RaiseError, match=f"{change} on {table} refused: the audit log is append-only"):
            await admin.execute(statement, *([tenant] if "$1" in statement else []))
        await admin.execute("RESET ROLE")
        assert await count_rows(admin, tenant) == before
    finally:
        await admin.close()


async def test_only_a_superuser_who_disables_the_trigger_can_change_a_row(stack: Stack, tenant: str) -> None:
    admin = await asyncpg.connect(stack.admin_database_url)
    try:
        assert await admin.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        tx = admin.transaction()
        await tx.start()
        await admin.execute("ALTER TABLE lock_audit DISABLE TRIGGER lock_audit_append_only")
        changed = await admin.execute("UPDATE lock_audit SET record_id = 'forged' WHERE tenant_id = $1 "
                                      "AND leaf_index = 0", tenant)
        assert changed == "UPDATE 1"
        await tx.rollback()  # the tamper test keeps such a change; here only the refusal's limit is shown
        enabled = await admin.fetchval("SELECT tgenabled::text FROM pg_trigger WHERE tgname = $1",
                                       "lock_audit_append_only")
        assert enabled == "A"  # ALWAYS
    finally:
        await admin.close()


async def test_a_migration_role_that_owns_every_other_table_cannot_disable_the_audit_triggers(stack: Stack) -> None:
    admin = await asyncpg.connect(stack.admin_database_url)
    name, password = f"migrator_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    try:
        assert not await admin.fetchval("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'lis_audit_owner'")
        await admin.execute(f"CREATE ROLE {name} LOGIN NOSUPERUSER PASSWORD '{password}'")
        # What the migration role is where it is not a superuser (a managed database): the owner of the schema's
        # other tables. Lent, and handed back below, so the shared test database is unchanged afterwards.
        others = [r["tablename"] for r in await admin.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user")]
        for table in others:
            await admin.execute(f"ALTER TABLE {table} OWNER TO {name}")
        parts = urlsplit(stack.admin_database_url)
        migrator = await asyncpg.connect(urlunsplit(parts._replace(
            netloc=f"{name}:{password}@{parts.hostname}:{parts.port}")))
        try:
            for table in TABLES:
                with pytest.raises(asyncpg.InsufficientPrivilegeError, match="must be owner"):
                    await migrator.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await migrator.execute(f"ALTER TABLE {table} OWNER TO {name}")
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await migrator.execute("SET ROLE lis_audit_owner")
        finally:
            await migrator.close()
            for table in others:
                await admin.execute(f"ALTER TABLE {table} OWNER TO current_user")
    finally:
        await admin.execute(f"DROP ROLE IF EXISTS {name}")
        await admin.close()


async def test_a_second_leaf_at_a_stored_index_is_refused(stack: Stack, tenant: str) -> None:
    pool = await create_pool(stack.database_url, max_size=1)
    try:
        with pytest.raises(asyncpg.UniqueViolationError):
            async with tenant_transaction(pool, tenant) as conn:
                await conn.execute("INSERT INTO lock_audit (tenant_id, leaf_index, record_id, leaf) "
                                   "VALUES ($1, 2, 'fork', 'x')", tenant)
    finally:
        await pool.close()
