"""Session fixtures: one real PostgreSQL and one real Kafka broker, started by the project's own launcher."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.devstack.stack import Stack
from tests.pipeline import Pipeline


@pytest.fixture(scope="session")
async def stack() -> AsyncIterator[Stack]:
    """Kafka (KRaft, official jars) + PostgreSQL (migrated, app role) for the whole session; external ones when
    ``KAFKA_BOOTSTRAP_SERVERS`` / ``DATABASE_URL`` are set."""
    running = await Stack.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
async def pipeline(request: pytest.FixtureRequest, stack: Stack) -> AsyncIterator[Pipeline]:
    """The one pipeline fixture of the e2e and chaos tests: a sandboxed property, its directory, topics and a worker,
    shaped by the module's or test's ``@pytest.mark.pipeline(rooms=…, worker_env=…, stack="stack")`` and, for an
    indirect parametrization, by ``request.param`` (a dict of the same options); stopped after the test. A test
    whose ``stack=`` names a fixture other than the session's asks for that fixture before ``pipeline``."""
    options: dict[str, Any] = {}
    for marker in reversed(list(request.node.iter_markers("pipeline"))):  # the closest marker wins
        options.update(marker.kwargs)
    options.update(getattr(request, "param", {}))
    name = options.pop("stack", "stack")
    running_stack: Stack = stack if name == "stack" else request.getfixturevalue(name)
    running = await Pipeline(running_stack, **options).start()
    try:
        yield running
    finally:
        running.stop()
