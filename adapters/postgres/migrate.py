"""Schema migrations, run as the database owner; the service itself connects as the non-owner role ``lis_app``."""

from __future__ import annotations

import secrets
from importlib import resources
from urllib.parse import urlsplit, urlunsplit

import asyncpg

APP_ROLE = "lis_app"


async def migrate(admin_url: str, *, app_password: str | None = None) -> str:
    """Create the application role and apply every migration not applied yet; returns the app's DATABASE_URL."""
    password = app_password or secrets.token_urlsafe(18)
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute("SELECT pg_advisory_lock(4242)")
        exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", APP_ROLE)
        verb = "ALTER" if exists else "CREATE"
        # NOBYPASSRLS and not the tables' owner: row-level security always applies to the service.
        await conn.execute(
            f"{verb} ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE "
            f"PASSWORD '{password.replace(chr(39), '')}'"
        )
        await conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at "
                           "timestamptz NOT NULL DEFAULT now())")
        # Even the bookkeeping table is under RLS; no policy means the application role sees none of it.
        await conn.execute("ALTER TABLE schema_migrations ENABLE ROW LEVEL SECURITY")
        await conn.execute("ALTER TABLE schema_migrations FORCE ROW LEVEL SECURITY")
        applied = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
        folder = resources.files("adapters.postgres") / "migrations"
        for entry in sorted(folder.iterdir(), key=lambda p: p.name):
            if entry.name.endswith(".sql") and entry.name not in applied:
                async with conn.transaction():
                    await conn.execute(entry.read_text())
                    await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", entry.name)
        await conn.execute("SELECT pg_advisory_unlock(4242)")
    finally:
        await conn.close()
    return app_url(admin_url, password)


def app_url(admin_url: str, password: str) -> str:
    """The same server and database as ``admin_url``, as the application role."""
    parts = urlsplit(admin_url)
    host = parts.hostname or "127.0.0.1"
    netloc = f"{APP_ROLE}:{password}@{host}:{parts.port or 5432}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
