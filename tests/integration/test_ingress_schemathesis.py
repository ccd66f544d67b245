"""Schemathesis against the running ingress and the contract it serves: generated and mutated requests (also validly
signed ones, so the parsers behind the signature are reached) never get a server error, and every answer matches the
documented status codes, content types, headers and schemas."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.schemas import APIOperation

from app.devstack.stack import Stack
from app.ingress.server import OPENAPI
from tests.benchmarks.ingress.live import LiveIngress, signed_headers

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
BOUNDED = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)



@pytest.fixture(scope="module")
async def live(stack: Stack) -> AsyncIterator[LiveIngress]:
    running = await LiveIngress(stack, env={"LIS_INGRESS_TENANT_RATE": "10000",
                                            "LIS_INGRESS_TENANT_BURST": "10000"}).start()
    try:
        yield running
    finally:
        running.stop()


def operations(live: LiveIngress) -> list[APIOperation[Any, Any, Any, Any]]:
    """Every operation of the contract as the running ingress serves it (``GET /openapi.yaml``)."""
    # The schemathesis pytest plugin's lazy fixtures do not run on pytest 9; its strategies do, under hypothesis.
    served = httpx.get(f"{live.url}/openapi.yaml")
    assert served.text == OPENAPI.read_text(), "the ingress serves its contract as written"
    schema = schemathesis.openapi.from_url(f"{live.url}/openapi.yaml")
    found = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    # Schemathesis leaves out the operation that serves the schema itself.
    assert {op.label for op in found} == {"POST /webhooks/{vendor}/{tenant}", "GET /metrics", "GET /healthz",
                                          "POST /webhooks/ttlock/{tenant}/{path_secret}"}
    return found


@pytest.mark.parametrize("mode", list(GenerationMode))
async def test_no_request_gets_a_server_error_or_an_undocumented_answer(live: LiveIngress,
                                                                        mode: GenerationMode) -> None:
    for operation in await asyncio.to_thread(operations, live):
        if mode is GenerationMode.NEGATIVE and operation.method.upper() == "GET":
            continue  # nothing to break in a request without parameters or body

        @given(case=operation.as_strategy(mode))
        @BOUNDED
        def call(case: schemathesis.Case[Any]) -> None:
            case.call_and_validate(base_url=live.url, checks=CHECKS)

        await asyncio.to_thread(call)


async def test_no_validly_signed_body_gets_a_server_error_or_an_undocumented_answer(live: LiveIngress) -> None:
    (signed,) = [op for op in await asyncio.to_thread(operations, live)
                 if op.definition.raw.get("operationId") == "receiveSignedWebhook"]
    statuses: set[int] = set()

    @given(case=signed.as_strategy(GenerationMode.POSITIVE))
    @BOUNDED
    def call(case: schemathesis.Case[Any]) -> None:
        raw = json.dumps(case.body).encode()
        case.body = raw
        case.path_parameters = {"vendor": "salto", "tenant": live.tenant}
        case.headers.update(signed_headers(raw, live.salto_secret))
        response = case.call_and_validate(base_url=live.url, checks=CHECKS)
        statuses.add(response.status_code)

    await asyncio.to_thread(call)
    # Past the signature: the body parsers and the directory were reached, not only the verifier.
    assert statuses & {400, 422}, statuses
    assert statuses <= {202, 400, 422}, statuses
