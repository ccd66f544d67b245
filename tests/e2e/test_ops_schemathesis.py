"""Schemathesis against a live worker's ops API and its contract (docs/openapi-ops.yaml): with a token of each role,
a wrong-tenant token and a bad one, generated requests never get a server error and every answer is documented."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.domain.ops_access import OpsRole
from tests.pipeline import Pipeline, distinct

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow, pytest.mark.pipeline(rooms=2)]

SPEC = Path(__file__).resolve().parents[2] / "docs" / "openapi-ops.yaml"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
BOUNDED = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


def tokens(pipeline: Pipeline) -> dict[str, str]:
    issuer = pipeline.stack.ops_issuer
    return {
        "admin": issuer.issue(subject="admin", role=OpsRole.PLATFORM_ADMIN),
        "operator": issuer.issue(subject="op", role=OpsRole.TENANT_OPERATOR, tenants=[pipeline.tenant]),
        "read-only": issuer.issue(subject="ro", role=OpsRole.READ_ONLY, tenants=[pipeline.tenant]),
        "wrong tenant": issuer.issue(subject="other", role=OpsRole.TENANT_OPERATOR, tenants=["someone-else"]),
        "expired": issuer.issue(subject="late", role=OpsRole.PLATFORM_ADMIN, ttl_s=1, now=0),
    }


def fuzz(operation: Any, base_url: str, headers: dict[str, str], statuses: set[int]) -> None:
    @given(case=operation.as_strategy())
    @BOUNDED
    def call(case: schemathesis.Case[Any]) -> None:
        statuses.add(case.call_and_validate(base_url=base_url, checks=CHECKS, headers=headers).status_code)

    call()


async def test_no_ops_request_gets_a_server_error_or_an_undocumented_answer(pipeline: Pipeline) -> None:
    await pipeline.publish(pipeline.confirmations(range(1, 3)))
    issued = await pipeline.read("lock.events", until=lambda rs: len(distinct(rs, "key.issued")) >= 2)
    assert len(distinct(issued, "key.issued")) == 2, "the worker is up and owns its partitions"
    schema = schemathesis.openapi.from_path(SPEC)
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert {op.label for op in operations} == {"GET /ops/locks", "GET /ops/stays", "GET /ops/master-keys",
                                               "GET /ops/properties", "GET /ops/dead-letters",
                                               "GET /ops/credential-code", "GET /ops/unlocks", "POST /ops/dead-letters",
                                               "GET /ops/breakers"}
    base_url = f"http://127.0.0.1:{pipeline.web_port}"
    statuses: set[int] = set()
    for token in tokens(pipeline).values():
        for operation in operations:
            await asyncio.to_thread(fuzz, operation, base_url, {"Authorization": f"Bearer {token}"}, statuses)
    assert {200, 400, 401, 403} <= statuses, f"the roles and tokens reached every kind of answer: {statuses}"
