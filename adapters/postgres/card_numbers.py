"""Card numbers per property in PostgreSQL (``card_numbers``): allocated once per credential attempt, held until the
credential's validity has ended, found again after a crash. See ``migrations/004_card_numbers.sql``."""

from __future__ import annotations

import hashlib
from datetime import datetime

import asyncpg

from adapters.postgres.pool import tenant_transaction
from app.domain.errors import InvalidRequest

ALLOCATION_TRIES = 5  # a number taken by a concurrent worker between the pick and the write: pick again
WINDOW = 1024  # numbers looked at per query: a 32-bit range is never enumerated whole

# The first free number of a window of the range (wrapping round it) from a starting point the holder spreads: a
# number is free when no row holds it or its holder's credential has expired. The write takes it only if it is
# still free then.
_TAKE_FREE = """
WITH candidate AS (
    SELECT (s % $4::bigint) + 1 AS n FROM generate_series($3::bigint, $3::bigint + $7::bigint - 1) AS s
    WHERE NOT EXISTS (SELECT 1 FROM card_numbers c WHERE c.tenant_id = $1 AND c.property_id = $2
                      AND c.card_number = (s % $4::bigint) + 1 AND c.held_until >= now())
    LIMIT 1)
INSERT INTO card_numbers (tenant_id, property_id, card_number, holder, held_until)
SELECT $1, $2, n, $5, $6 FROM candidate
ON CONFLICT (tenant_id, property_id, card_number) DO UPDATE SET holder = EXCLUDED.holder,
    held_until = EXCLUDED.held_until WHERE card_numbers.held_until < now()
RETURNING card_number
"""


class PostgresCardNumbers:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def allocate(self, tenant: str, property_id: str, holder: str, until: datetime, highest: int) -> int:
        """The number ``holder`` holds on the property (the same one on every call), held at least ``until``."""
        start = int.from_bytes(hashlib.sha256(holder.encode()).digest()[:8], "big") % highest
        window = min(WINDOW, highest)
        for _ in range(ALLOCATION_TRIES):
            try:
                async with tenant_transaction(self._pool, tenant) as conn:
                    held = await conn.fetchval(
                        "UPDATE card_numbers SET held_until = greatest(held_until, $4) WHERE tenant_id = $1 "
                        "AND property_id = $2 AND holder = $3 RETURNING card_number",
                        tenant, property_id, holder, until)
                    for offset in range(0, highest, window):
                        if held is not None:
                            break
                        held = await conn.fetchval(_TAKE_FREE, tenant, property_id, start + offset, highest, holder,
                                                   until, window)
            except asyncpg.UniqueViolationError:
                continue  # the same holder allocated concurrently (a duplicate delivery): read its number
            if held is not None:
                return int(held)
        raise InvalidRequest(f"no free card number up to {highest} on {tenant}/{property_id}",
                             vendor_code="card_numbers_exhausted")

    async def extend(self, tenant: str, property_id: str, holders_prefix: str, until: datetime) -> None:
        """Hold every number of the holders starting with ``holders_prefix`` at least ``until`` (a longer stay)."""
        async with tenant_transaction(self._pool, tenant) as conn:
            await conn.execute(
                "UPDATE card_numbers SET held_until = greatest(held_until, $4) WHERE tenant_id = $1 "
                "AND property_id = $2 AND starts_with(holder, $3)", tenant, property_id, holders_prefix, until)
