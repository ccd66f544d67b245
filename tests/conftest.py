"""Session fixtures: one real PostgreSQL and one real Kafka broker, started by the project's own launcher."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from app.devstack.stack import Stack
from tests.pipeline import Pipeline


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Name each xfail-marked test in the JUnit report, passed or not: `lis readiness` counts it as partial."""
    for item in items:
        for marker in item.iter_markers("xfail"):
            item.user_properties.append(("xfail", marker.kwargs.get("reason", "")))


@pytest.fixture(scope="session", autouse=True)
def _commit_in_the_report(record_testsuite_property: Callable[[str, object], None]) -> None:
    """The JUnit report names the commit it tested (`lis readiness` shows it)."""
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True,
                          check=False).stdout.strip()
    if head:
        record_testsuite_property("commit", head)


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
