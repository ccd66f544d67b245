"""Card numbers on a real PostgreSQL: one per credential attempt, the same one again after a crash, never two live
holders of one number, reuse only after the holder's card has expired, and the format's range kept."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from adapters.postgres.card_numbers import PostgresCardNumbers
from adapters.postgres.directory import save_tenant
from adapters.postgres.pool import create_pool
from app.devstack.stack import Stack
from app.domain.errors import InvalidRequest

pytestmark = [pytest.mark.postgres]
LATER = datetime.now(UTC) + timedelta(days=3)


@pytest.fixture
async def pool(stack: Stack) -> AsyncIterator[asyncpg.Pool]:
    app_pool = await create_pool(stack.database_url)
    yield app_pool
    await app_pool.close()


@pytest.fixture
async def tenant(pool: asyncpg.Pool) -> str:
    name = f"cards-{uuid.uuid4().hex[:8]}"
    await save_tenant(pool, name, "eu-west", name)
    return name


async def test_a_holder_gets_the_same_number_on_every_call(pool: asyncpg.Pool, tenant: str) -> None:
    cards = PostgresCardNumbers(pool)
    first = await cards.allocate(tenant, "p1", "door-1|R1|1#0", LATER, 65_535)
    again = await cards.allocate(tenant, "p1", "door-1|R1|1#0", LATER, 65_535)  # a worker after a crash
    assert first == again
    assert 1 <= first <= 65_535


async def test_concurrent_holders_never_share_a_number_and_the_range_is_kept(pool: asyncpg.Pool, tenant: str) -> None:
    cards = PostgresCardNumbers(pool)
    numbers = await asyncio.gather(*(cards.allocate(tenant, "p1", f"h{n}", LATER, 40) for n in range(40)))
    assert sorted(numbers) == list(range(1, 41))
    with pytest.raises(InvalidRequest, match="no free card number up to 40"):
        await cards.allocate(tenant, "p1", "one-too-many", LATER, 40)
    # Another property numbers its cards apart.
    assert await cards.allocate(tenant, "p2", "h0", LATER, 40) in range(1, 41)


async def test_a_number_is_reused_only_after_its_card_has_expired(pool: asyncpg.Pool, tenant: str) -> None:
    cards = PostgresCardNumbers(pool)
    expired = datetime.now(UTC) - timedelta(minutes=1)
    old = await cards.allocate(tenant, "p1", "gone", expired, 1)
    assert await cards.allocate(tenant, "p1", "next", LATER, 1) == old
    with pytest.raises(InvalidRequest):
        await cards.allocate(tenant, "p1", "third", LATER, 1)


async def test_a_longer_stay_holds_its_number_longer(pool: asyncpg.Pool, tenant: str) -> None:
    cards = PostgresCardNumbers(pool)
    soon = datetime.now(UTC) + timedelta(seconds=1)
    number = await cards.allocate(tenant, "p1", "door-1|R2|1#0", soon, 1)
    await cards.extend(tenant, "p1", "door-1|R2|1#", LATER)
    await asyncio.sleep(1.2)
    with pytest.raises(InvalidRequest):  # still held: the stay was extended
        await cards.allocate(tenant, "p1", "stranger", LATER, 1)
    assert await cards.allocate(tenant, "p1", "door-1|R2|1#0", soon, 1) == number


async def test_a_32_bit_range_allocates_without_enumerating_it(pool: asyncpg.Pool, tenant: str) -> None:
    cards = PostgresCardNumbers(pool)
    numbers = {await cards.allocate(tenant, "p1", f"wide-{n}", LATER, 4_294_967_295) for n in range(20)}
    assert len(numbers) == 20
    assert all(1 <= number <= 4_294_967_295 for number in numbers)
