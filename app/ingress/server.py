"""The vendor webhook ingress: an aiohttp application separate from the Faust worker.

``POST /webhooks/{vendor}/{tenant}`` (vendors whose webhook format is signed: Standard Webhooks) and
``POST /webhooks/{vendor}/{tenant}/{path_secret}`` (unsigned formats: TTLock), for each vendor of the registry with a
webhook format (``adapters/<vendor>/spec.py``). A webhook is read once (within the body limit), authenticated before
it is parsed, rate limited per tenant, read by its vendor's format and confirmed with the vendor where the format
asks for it, produced to ``vendor.webhooks`` as a :class:`~app.domain.lock_status.VendorWebhook` keyed by
tenant/region/lock and acknowledged by the broker, and only then answered with a 2xx (or the text the format asks
for: TTLock's ``success``).
Everything else is a refusal with a reason code (:mod:`app.ingress.guards`). ``GET /openapi.yaml`` serves the
contract, ``GET /metrics`` the Prometheus metrics, ``GET /healthz`` liveness.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import asyncpg
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_urldispatcher import UrlMappingMatchInfo
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from adapters.postgres.webhook_endpoints import VendorLock, prune_receipts
from adapters.registry import INSTALLED, Registry
from adapters.vendor_spec import ParsedWebhook, VendorSpec, WebhookFormat, WebhookRefused
from app.domain.credential import LockRef
from app.domain.errors import LockError
from app.domain.lock_port import LockPort
from app.domain.lock_status import VendorEvent, VendorWebhook
from app.ingress import standard
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
    """``POST /webhooks/{vendor}/{tenant}``: accept one signed vendor webhook, or refuse it."""
    return await _receive(request, request.match_info["vendor"])


def unsigned_receiver(vendor: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The handler of ``POST /webhooks/<vendor>/{tenant}/{path_secret}`` for a vendor of an unsigned format."""
    async def receive_unsigned(request: web.Request) -> web.Response:
        return await _receive(request, vendor)
    return receive_unsigned


async def _receive(request: web.Request, vendor: str) -> web.Response:
    """Accept one vendor webhook, or refuse it with a reason code; counted either way."""
    started = time.perf_counter()
    ingress = request.app[INGRESS]
    try:
        response = await _accept(ingress, request, vendor)
        reason = "accepted"
    except Refusal as refusal:
        reason = refusal.reason
        response = web.json_response({"reason": refusal.reason, "detail": refusal.detail}, status=refusal.status)
        if refusal.retry_after is not None:
            response.headers["Retry-After"] = str(max(1, round(refusal.retry_after)))
        # Never the body, the headers or the path: they may carry a signature or a path secret.
        log.info("webhook refused vendor=%s tenant=%s status=%d reason=%s", loggable(vendor, _NAME),
                 loggable(request.match_info["tenant"], _TENANT), refusal.status, refusal.reason)
    ingress.metrics.answered(vendor, response.status, reason, time.perf_counter() - started)
    return response


async def _accept(ingress: Ingress, request: web.Request, vendor: str) -> web.Response:
    tenant = request.match_info["tenant"]
    path_secret = request.match_info.get("path_secret")
    webhooks = _format_of(ingress.registry, vendor, tenant)
    # An unsigned format has a route of its own (with the path secret); a signed one has none with a path secret.
    if webhooks is None or (path_secret is None) != webhooks.signed:
        raise Refusal(404, "unknown_endpoint", "no webhook endpoint for this vendor and tenant")
    body = await _read_body(request, ingress.settings.max_body_bytes)
    secrets = await ingress.endpoints.secrets(tenant, vendor)
    now = datetime.now(UTC)
    signed = standard.authenticate(secrets, request.headers, body, now) if webhooks.signed else None
    if signed is None:
        standard.authenticate_path(secrets, path_secret)
    # Limited after authentication: a flood of forged requests must not use up a tenant's real webhooks' budget.
    ingress.limits.check(tenant, time.monotonic())
    parsed = _refused_as_answer(webhooks.parse, body)
    lock = await ingress.endpoints.lock(tenant, vendor, parsed.vendor_lock_id)
    events = parsed.events if webhooks.signed else await _confirmed(ingress, webhooks, parsed,
                                                                                   vendor, tenant, lock, now)
    webhook_id = signed.webhook_id if signed else standard.unsigned_webhook_id(ingress.keys, tenant, vendor,
                                                                               parsed.identity)
    await ingress.sink.deliver(VendorWebhook(
        webhook_id=webhook_id, vendor=vendor, tenant=tenant, region=lock.region, property=lock.property,
        lock_id=lock.lock_id, vendor_lock_id=parsed.vendor_lock_id, received_at=now, events=events))
    ingress.active_tenants.add(tenant)
    if webhooks.ack_text is not None:
        return web.Response(text=webhooks.ack_text)
    return web.json_response({"status": "accepted", "webhook_id": webhook_id}, status=202)


def _format_of(registry: Registry, vendor: str, tenant: str) -> WebhookFormat | None:
    if not _NAME.fullmatch(vendor) or not _TENANT.fullmatch(tenant) or vendor not in registry:
        return None
    return registry.spec(vendor).webhooks


def _refused_as_answer(parse: Callable[[bytes], ParsedWebhook], body: bytes) -> ParsedWebhook:
    try:
        return parse(body)
    except WebhookRefused as err:
        raise _refusal(err) from err


def _refusal(err: WebhookRefused) -> Refusal:
    return unavailable(err.reason, err.detail) if err.status == 503 else Refusal(err.status, err.reason, err.detail)


async def _confirmed(ingress: Ingress, webhooks: WebhookFormat, parsed: ParsedWebhook, vendor: str, tenant: str,
                     lock: VendorLock, now: datetime) -> tuple[VendorEvent, ...]:
    """The events of an unsigned webhook as the vendor itself lists them, through the property's adapter."""
    spec = ingress.registry.spec(vendor)
    port = await _port(ingress, spec, tenant, lock)
    ref = LockRef(tenant=tenant, region=lock.region, property=lock.property, lock_id=lock.lock_id,
                  vendor=vendor, vendor_lock_id=parsed.vendor_lock_id)
    not_before = now - timedelta(seconds=ingress.settings.receipt_retention_s)
    try:
        return await webhooks.confirm(parsed, port, ref, not_before)
    except WebhookRefused as err:
        raise _refusal(err) from err


async def _port(ingress: Ingress, spec: VendorSpec[Any], tenant: str, lock: VendorLock) -> LockPort:
    try:
        return await ingress.vendor_ports.port(tenant, lock.property, spec.name)
    except (LockError, SealError, ValueError) as err:  # missing, unreadable or invalid account configuration
        raise unavailable("vendor_account_missing", f"no usable {spec.display} account: {type(err).__name__}") from err
    except (asyncpg.PostgresError, OSError) as err:
        raise unavailable("database_unavailable", f"PostgreSQL: {type(err).__name__}") from err


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
        info = getattr(request, "match_info", None)
        path = request.rel_url.raw_path
        if isinstance(info, UrlMappingMatchInfo) and "path_secret" in info and info.route.resource is not None:
            # A route of an unsigned format, /webhooks/<vendor>/{tenant}/{path_secret}: never the secret.
            route = info.route.resource.canonical
            path = route.replace("{tenant}", loggable(info["tenant"], _TENANT)).replace("{path_secret}", "<redacted>")
        self.logger.info("%s %s %d %.1fms", request.method, path[:256], response.status, seconds * 1000)


def create_app(settings: IngressSettings, service: Settings, registry: Registry = INSTALLED) -> web.Application:
    """The aiohttp application for the vendors of ``registry``; its resources open on startup, close on cleanup."""
    # client_max_size makes aiohttp itself stop reading a chunked body past the limit.
    app = web.Application(client_max_size=settings.max_body_bytes)
    for spec in registry:
        if spec.webhooks is not None and not spec.webhooks.signed:
            app.router.add_post(f"/webhooks/{spec.name}/{{tenant}}/{{path_secret}}", unsigned_receiver(spec.name))
    app.router.add_post("/webhooks/{vendor}/{tenant}", receive_webhook)
    app.router.add_get("/openapi.yaml", openapi)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)

    async def resources(app: web.Application) -> AsyncIterator[None]:
        async with open_ingress(settings, service, registry) as ingress:
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
