"""Session fixtures: one real PostgreSQL and one real Kafka broker, started by the project's own launcher."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from app.devstack.stack import Stack


@pytest.fixture(scope="session")
async def stack() -> AsyncIterator[Stack]:
    """Kafka (KRaft, official jars) + PostgreSQL (migrated, app role) for the whole session; external ones when
    ``KAFKA_BOOTSTRAP_SERVERS`` / ``DATABASE_URL`` are set."""
    running = await Stack.start()
    try:
        yield running
    finally:
        running.stop()
