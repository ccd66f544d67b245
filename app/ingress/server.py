"""The vendor webhook ingress: an aiohttp application separate from the Faust worker.

``POST /webhooks/{vendor}/{tenant}`` (Standard Webhooks vendors) and ``POST /webhooks/ttlock/{tenant}/{path_secret}``
(TTLock). A webhook is read once (within the body limit), authenticated before it is parsed, rate limited per tenant,
normalised into a :class:`~app.domain.lock_status.VendorWebhook`, produced to ``vendor.webhooks`` keyed by
tenant/region/lock and acknowledged by the broker, and only then answered with a 2xx (TTLock: the text ``success``).
Everything else is a refusal with a reason code (:mod:`app.ingress.guards`). ``GET /openapi.yaml`` serves the
contract, ``GET /metrics`` the Prometheus metrics, ``GET /healthz`` liveness.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

import asyncpg
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from adapters.postgres.webhook_endpoints import prune_receipts
from adapters.ttlock.client import TTLockClient
from adapters.ttlock.webhook import ACK
from app.domain.credential import Vendor
from app.domain.errors import LockError
from app.domain.lock_status import VendorWebhook
from app.ingress import standard, ttlock
from app.ingress.backends import Ingress, open_ingress
from app.ingress.guards import IngressSettings, Refusal, unavailable
from app.security.envelope import SealError
from app.settings import Settings

log = logging.getLogger("lis.ingress")
OPENAPI: Final = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_TENANT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


INGRESS = web.AppKey("ingress", Ingress)


async def receive_webhook(request: web.Request) -> web.Response:
    """Accept one vendor webhook, or refuse it with a reason code; counted either way."""
    started = time.perf_counter()
    ingress = request.app[INGRESS]
    vendor = request.match_info.get("vendor", "ttlock")
    try:
        response = await _accept(ingress, request, vendor)
        reason = "accepted"
    except Refusal as refusal:
        reason = refusal.reason
        response = web.json_response({"reason": refusal.reason, "detail": refusal.detail}, status=refusal.status)
        if refusal.retry_after is not None:
            response.headers["Retry-After"] = str(max(1, round(refusal.retry_after)))
        # Never the body, the headers or the path: they may carry a signature or the TTLock path secret.
        log.info("webhook refused vendor=%s tenant=%s status=%d reason=%s", loggable(vendor, _NAME),
                 loggable(request.match_info["tenant"], _TENANT), refusal.status, refusal.reason)
    ingress.metrics.answered(vendor, response.status, reason, time.perf_counter() - started)
    return response


async def _accept(ingress: Ingress, request: web.Request, vendor: str) -> web.Response:
    tenant = request.match_info["tenant"]
    path_secret = request.match_info.get("path_secret")
    # TTLock has a route of its own (with the path secret); on the signed route it is an unknown endpoint.
    if not _NAME.fullmatch(vendor) or not _TENANT.fullmatch(tenant) or (path_secret is None) == (vendor == "ttlock"):
        raise Refusal(404, "unknown_endpoint", "no webhook endpoint for this vendor and tenant")
    body = await _read_body(request, ingress.settings.max_body_bytes)
    secrets = await ingress.endpoints.secrets(tenant, vendor)
    now = datetime.now(UTC)
    if vendor == "ttlock":
        ttlock.authenticate(secrets, path_secret)
        ingress.limits.check(tenant, time.monotonic())
        await ingress.sink.deliver(await _ttlock_webhook(ingress, tenant, body, now))
        return web.Response(text=ACK)
    signed = standard.authenticate(secrets, request.headers, body, now)
    # Limited after authentication: a flood of forged requests must not use up a tenant's real webhooks' budget.
    ingress.limits.check(tenant, time.monotonic())
    vendor_lock_id, event = standard.parse(vendor, body)
    lock = await ingress.endpoints.lock(tenant, vendor, vendor_lock_id)
    await ingress.sink.deliver(VendorWebhook(
        webhook_id=signed.webhook_id, vendor=vendor, tenant=tenant, region=lock.region, property=lock.property,
        lock_id=lock.lock_id, vendor_lock_id=vendor_lock_id, received_at=now, events=(event,)))
    ingress.active_tenants.add(tenant)
    return web.json_response({"status": "accepted", "webhook_id": signed.webhook_id}, status=202)


async def _ttlock_webhook(ingress: Ingress, tenant: str, body: bytes, now: datetime) -> VendorWebhook:
    callback = ttlock.parse(body)
    lock = await ingress.endpoints.lock(tenant, "ttlock", str(callback.lock_id))
    ref = ttlock.ttlock_lock(tenant, lock.region, lock.property, lock.lock_id, callback)
    try:
        client = await ingress.vendor_ports.port(tenant, lock.property, Vendor.TTLOCK)
    except (LockError, SealError, ValueError) as err:  # missing, unreadable or invalid account configuration
        raise unavailable("vendor_account_missing", f"no usable TTLock account: {type(err).__name__}") from err
    except (asyncpg.PostgresError, OSError) as err:
        raise unavailable("database_unavailable", f"PostgreSQL: {type(err).__name__}") from err
    if not isinstance(client, TTLockClient):
        raise unavailable("vendor_account_missing", "the property's TTLock adapter cannot list records")
    records = await ttlock.confirm(client, ref, callback)
    ttlock.check_fresh(records, now, timedelta(seconds=ingress.settings.receipt_retention_s))
    ingress.active_tenants.add(tenant)
    return VendorWebhook(webhook_id=ttlock.webhook_id(ingress.keys, tenant, callback), vendor="ttlock",
                         tenant=tenant, region=lock.region, property=lock.property, lock_id=lock.lock_id,
                         vendor_lock_id=str(callback.lock_id), received_at=now, events=ttlock.normalise(records))


async def _read_body(request: web.Request, limit: int) -> bytes:
    """The raw body, read once; 413 before reading when the declared length is too large, or while reading."""
    if request.content_length is not None and request.content_length > limit:
        raise Refusal(413, "body_too_large", f"webhook bodies are limited to {limit} bytes")
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge as err:
        raise Refusal(413, "body_too_large", f"webhook bodies are limited to {limit} bytes") from err


async def openapi(request: web.Request) -> web.Response:
    """The ingress's OpenAPI 3.1 contract."""
    text = await asyncio.to_thread(OPENAPI.read_text)
    return web.Response(text=text, content_type="application/yaml")


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text exposition of the ingress's metrics."""
    payload = generate_latest(request.app[INGRESS].metrics.registry)
    return web.Response(body=payload, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the process serves requests."""
    return web.json_response({"status": "ok"})


def loggable(value: str, shape: re.Pattern[str]) -> str:
    """``value`` as a log may show it: as is when it has the shape it should (a tenant id, a vendor name), else
    escaped and cut, so a path segment cannot forge a log line (``%0A``) or flood the log."""
    return value if shape.fullmatch(value) else f"<invalid {value[:64]!a}>"


class RedactingAccessLogger(AbstractAccessLogger):
    """An access log line per request whose path never shows the TTLock path secret (nor any query string), and is
    the raw, still percent-encoded path: a decoded segment could carry a line break into the log."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, seconds: float) -> None:
        info = getattr(request, "match_info", {})
        path = request.rel_url.raw_path
        if "path_secret" in info:
            path = f"/webhooks/ttlock/{loggable(info['tenant'], _TENANT)}/<redacted>"
        self.logger.info("%s %s %d %.1fms", request.method, path[:256], response.status, seconds * 1000)


def create_app(settings: IngressSettings, service: Settings) -> web.Application:
    """The aiohttp application; its resources open on startup and close on cleanup."""
    # client_max_size makes aiohttp itself stop reading a chunked body past the limit.
    app = web.Application(client_max_size=settings.max_body_bytes)
    app.router.add_post("/webhooks/ttlock/{tenant}/{path_secret}", receive_webhook)
    app.router.add_post("/webhooks/{vendor}/{tenant}", receive_webhook)
    app.router.add_get("/openapi.yaml", openapi)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)

    async def resources(app: web.Application) -> AsyncIterator[None]:
        async with open_ingress(settings, service) as ingress:
            app[INGRESS] = ingress
            yield

    app.cleanup_ctx.append(resources)
    app.cleanup_ctx.append(_prune_receipts)
    return app


async def _prune_receipts(app: web.Application) -> AsyncIterator[None]:
    """Background task: drop receipts past the retention of the tenants that sent webhooks since the last round."""
    ingress = app[INGRESS]

    async def loop() -> None:
        while True:
            await asyncio.sleep(ingress.settings.prune_every_s)
            tenants, ingress.active_tenants = ingress.active_tenants, set()
            for tenant in tenants:
                try:
                    await prune_receipts(ingress.pool, tenant,
                                         timedelta(seconds=ingress.settings.receipt_retention_s))
                except (asyncpg.PostgresError, OSError):
                    log.warning("could not prune webhook receipts of tenant %s; next round retries", tenant)
                    ingress.active_tenants.add(tenant)

    task = asyncio.create_task(loop())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
