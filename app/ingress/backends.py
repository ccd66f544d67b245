"""What the ingress talks to: PostgreSQL for secrets, the lock directory and receipts, and Kafka for the webhooks.

Lookups are cached for a few seconds (a rotated secret or an edited directory applies within ``ttl``), so a flood of
requests for one tenant costs one query, not one each. Infrastructure failures leave this module as 503 refusals:
nothing was accepted and the sender should retry.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Final, TypeVar

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from adapters.postgres.pool import create_pool
from adapters.postgres.webhook_endpoints import (
    AlreadyReceived,
    VendorLock,
    find_vendor_locks,
    held_receipt,
    load_webhook_endpoint,
)
from adapters.registry import INSTALLED, Registry, VendorPorts
from app.domain.lock_status import VendorWebhook
from app.infra.topics import ensure_topics
from app.ingress.guards import IngressMetrics, IngressSettings, Refusal, TenantRateLimit, unavailable
from app.schema_registry import kafka_headers
from app.security.envelope import KeyStore, SealError
from app.security.webhook_signature import EndpointSecrets
from app.settings import Settings

T = TypeVar("T")
_CACHE_LIMIT: Final = 10_000  # entries; a scan of made-up tenants must not grow the cache without bound
_DATABASE_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)


class _TTLCache:
    """A small time-bounded cache that also remembers misses (None), so unknown tenants cost no query either."""

    def __init__(self, ttl_s: float, clock: Callable[[], float]) -> None:
        self._ttl, self._clock = ttl_s, clock
        self._entries: dict[tuple[str, ...], tuple[float, object]] = {}

    async def get(self, key: tuple[str, ...], load: Callable[[], Awaitable[T | None]]) -> T | None:
        hit = self._entries.get(key)
        if hit is not None and hit[0] > self._clock():
            return hit[1]  # type: ignore[return-value]
        value = await load()
        if len(self._entries) >= _CACHE_LIMIT:
            self._entries.clear()
        self._entries[key] = (self._clock() + self._ttl, value)
        return value


class EndpointDirectory:
    """Each tenant's webhook secrets per vendor and its locks by vendor id, from PostgreSQL through a cache."""

    def __init__(self, pool: asyncpg.Pool, keys: KeyStore, *, ttl_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._pool, self._keys = pool, keys
        self._secrets = _TTLCache(ttl_s, clock)
        self._locks = _TTLCache(ttl_s, clock)

    async def secrets(self, tenant: str, vendor: str) -> EndpointSecrets:
        """The endpoint's secrets; 404 when the tenant has no endpoint for this vendor."""
        found = await self._query(self._secrets.get(
            (tenant, vendor), lambda: load_webhook_endpoint(self._pool, self._keys, tenant, vendor)))
        if found is None:
            raise Refusal(404, "unknown_endpoint", "no webhook endpoint for this vendor and tenant")
        return found

    async def lock(self, tenant: str, vendor: str, vendor_lock_id: str) -> VendorLock:
        """The directory lock the vendor calls ``vendor_lock_id``; 422 when the tenant's directory lacks it, or has
        it in two properties (the webhook's lock would be a guess)."""
        found = await self._query(self._locks.get(
            (tenant, vendor, vendor_lock_id), lambda: find_vendor_locks(self._pool, tenant, vendor, vendor_lock_id)))
        if not found:
            raise Refusal(422, "unknown_lock", "the vendor lock is not in this tenant's directory")
        if len(found) > 1:
            raise Refusal(422, "ambiguous_lock", "two properties of this tenant's directory have this vendor lock id")
        return found[0]

    @staticmethod
    async def _query(lookup: Awaitable[T | None]) -> T | None:
        try:
            return await lookup
        except (SealError, ValidationError) as err:
            raise unavailable("secret_unreadable", "the endpoint's secrets do not open with this key store") from err
        except _DATABASE_ERRORS as err:
            raise unavailable("database_unavailable", f"PostgreSQL: {type(err).__name__}") from err


class WebhookSink:
    """Produces accepted webhooks to ``vendor.webhooks`` (acks=all) while holding their receipt in PostgreSQL."""

    def __init__(self, pool: asyncpg.Pool, bootstrap: str, topic: str, *, timeout_s: float) -> None:
        self._pool, self._topic, self._timeout = pool, topic, timeout_s
        # Idempotence: the producer's own retries after a lost acknowledgement never write a record twice.
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, client_id="lis-ingress",
            request_timeout_ms=int(timeout_s * 1000), retry_backoff_ms=50)

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def deliver(self, webhook: VendorWebhook) -> None:
        """Return only once the broker acknowledged ``webhook`` and its receipt is committed; else refuse."""
        key = f"{webhook.tenant}/{webhook.region}/{webhook.lock_id}".encode()
        value = webhook.model_dump_json().encode()
        try:
            async with held_receipt(self._pool, webhook.tenant, webhook.vendor, webhook.webhook_id,
                                    webhook.lock_id):
                # Bounded: an unreachable broker must become a 503 before the sender's own timeout, never a 2xx.
                await asyncio.wait_for(self._producer.send_and_wait(self._topic, value=value, key=key,
                                                                   headers=kafka_headers(webhook)),
                                       self._timeout)
        except AlreadyReceived as err:
            raise Refusal(409, "replayed", "this webhook id was accepted before") from err
        except (KafkaError, TimeoutError) as err:
            raise unavailable("broker_unavailable", f"Kafka did not acknowledge: {type(err).__name__}") from err
        except _DATABASE_ERRORS as err:
            raise unavailable("database_unavailable", f"PostgreSQL: {type(err).__name__}") from err


@dataclass
class Ingress:
    """The ingress's resources and guards, one per application."""

    settings: IngressSettings
    pool: asyncpg.Pool
    endpoints: EndpointDirectory
    sink: WebhookSink
    vendor_ports: VendorPorts
    limits: TenantRateLimit
    keys: KeyStore
    registry: Registry
    metrics: IngressMetrics
    active_tenants: set[str] = field(default_factory=set)  # whose receipts the next pruning round looks at


@asynccontextmanager
async def open_ingress(settings: IngressSettings, service: Settings,
                       registry: Registry = INSTALLED) -> AsyncIterator[Ingress]:
    """Connect to PostgreSQL (as the application role) and Kafka for the ingress's life; closes all on exit."""
    if not service.database_url:
        raise RuntimeError("DATABASE_URL is not set: the ingress needs the webhook endpoints in PostgreSQL")
    await ensure_topics(service.kafka_bootstrap_servers, prefix=service.topic_prefix,
                        partitions=service.partitions, replication=service.replication)
    pool = await create_pool(service.database_url, max_size=16)
    keys = service.keys()
    sink = WebhookSink(pool, service.kafka_bootstrap_servers, service.topic("vendor.webhooks"),
                       timeout_s=settings.produce_timeout_s)
    ports = VendorPorts(pool, keys, registry)
    try:
        await sink.start()
        yield Ingress(settings=settings, pool=pool, sink=sink, vendor_ports=ports,
                      endpoints=EndpointDirectory(pool, keys, ttl_s=settings.cache_ttl_s),
                      limits=TenantRateLimit(settings.tenant_rate, settings.tenant_burst), keys=keys,
                      registry=registry, metrics=IngressMetrics(registry.names))
    finally:
        await sink.stop()
        await ports.aclose()
        await pool.close()
