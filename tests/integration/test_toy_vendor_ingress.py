"""A vendor added as a folder receives webhooks: the ingress built with one more registry line (the toy vendor of
``tests/toy_vendor``, whose webhooks follow the generic Standard Webhooks convention) verifies a signed webhook for a
toy lock of the directory in PostgreSQL and produces it to ``vendor.webhooks`` on the real broker; a forged one is
refused. No file outside the toy folder names the vendor."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from aiohttp import web
from pydantic import SecretStr

from adapters.postgres.directory import save_property_directory, save_tenant
from adapters.postgres.pool import create_pool
from adapters.postgres.webhook_endpoints import save_webhook_endpoint
from adapters.registry import SPECS, Registry
from app.devstack.stack import Stack
from app.domain.directory import DirectoryLock, PropertyDirectory
from app.domain.stay_times import PropertyTimes
from app.infra.ports import free_port
from app.ingress.guards import IngressSettings
from app.ingress.server import create_app
from app.security.webhook_signature import EndpointSecrets, SigningSecret
from app.settings import Settings
from tests.benchmarks.ingress.live import REGION, LiveIngress, new_secret, signed_headers
from tests.toy_vendor.spec import SPEC as TOY

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


@pytest.fixture
async def toy_ingress(stack: Stack) -> AsyncIterator[tuple[LiveIngress, str]]:
    """The ingress of a registry with the toy vendor, in this process, and a tenant with one toy lock."""
    live = LiveIngress(stack, salto_locks=())
    secret = new_secret()
    pool = await create_pool(stack.database_url, max_size=1)
    try:
        await save_tenant(pool, live.tenant, REGION, live.tenant)
        await save_property_directory(pool, PropertyDirectory(
            tenant=live.tenant, region=REGION, property="p1", times=PropertyTimes(time_zone="Europe/Berlin"),
            locks=(DirectoryLock(lock_id="door-7", vendor="toy", vendor_lock_id="t-7", room="7"),)))
        await save_webhook_endpoint(pool, stack.keys, live.tenant, "toy", EndpointSecrets(
            signing=(SigningSecret(secret=SecretStr(secret)),)))
    finally:
        await pool.close()
    service = Settings(kafka_bootstrap_servers=stack.kafka_bootstrap, database_url=stack.database_url,
                       topic_prefix=live.prefix, master_key_file=stack.root / "master.key")
    runner = web.AppRunner(create_app(IngressSettings(cache_ttl_s=0), service, Registry((*SPECS, TOY))))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    live.url = f"http://127.0.0.1:{port}"
    try:
        yield live, secret
    finally:
        await runner.cleanup()


async def test_a_signed_webhook_of_a_vendor_added_as_a_folder_reaches_vendor_webhooks(
    toy_ingress: tuple[LiveIngress, str],
) -> None:
    live, secret = toy_ingress
    body = json.dumps({"type": "lock.battery", "timestamp": datetime.now(UTC).isoformat(),
                       "data": {"lock_id": "t-7", "battery_percent": 14}}).encode()
    url = f"{live.url}/webhooks/toy/{live.tenant}"
    async with httpx.AsyncClient(timeout=30) as http:
        forged = await http.post(url, content=body, headers=signed_headers(body, new_secret()))
        accepted = await http.post(url, content=body, headers=signed_headers(body, secret,
                                                                            webhook_id=f"msg_{uuid.uuid4().hex}"))
        metrics = (await http.get(f"{live.url}/metrics")).text

    assert (forged.status_code, forged.json()["reason"]) == (401, "bad_signature")
    assert accepted.status_code == 202, accepted.text
    [(key, webhook)] = await live.produced(until=lambda records: len(records) >= 1)
    assert key == live.lock_key("door-7")
    assert (webhook["vendor"], webhook["lock_id"], webhook["vendor_lock_id"]) == ("toy", "door-7", "t-7")
    assert [(e["type"], e["battery_percent"]) for e in webhook["events"]] == [("lock.battery", 14)]
    assert 'lis_webhook_responses_total{reason="accepted",status="202",vendor="toy"} 1.0' in metrics
