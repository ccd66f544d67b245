"""Connections as the application role, with the tenant set per transaction for row-level security."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg


async def create_pool(database_url: str, *, max_size: int = 8) -> asyncpg.Pool:
    return await asyncpg.create_pool(database_url, min_size=1, max_size=max_size)


@asynccontextmanager
async def tenant_transaction(pool: asyncpg.Pool, tenant: str) -> AsyncIterator[asyncpg.Connection]:
    """A transaction in which every query sees and writes only ``tenant``'s rows."""
    async with pool.acquire() as conn, conn.transaction():
        # set_config(..., true) is SET LOCAL: it ends with the transaction, so a pooled connection never leaks it.
        await conn.execute("SELECT set_config('app.tenant_id', $1, true)", tenant)
        yield conn
