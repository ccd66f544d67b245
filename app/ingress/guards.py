"""The ingress's limits and how it refuses: settings, one exception per answer that is not an acceptance, a
per-tenant rate limit, the metrics.

Every refusal is a :class:`Refusal` with an HTTP status and a stable reason code; the handler turns it into a small
JSON answer and counts it in ``lis_webhook_responses_total{vendor,status,reason}``. 4xx means the sender must not
retry the same request unchanged; 503 (broker, database or vendor API unreachable) means nothing was accepted and
the sender should retry later. Details never carry a secret, a signature or the body.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram
from pydantic import BaseModel, Field


class IngressSettings(BaseModel):
    """Where the ingress listens and its limits; every field has a ``LIS_INGRESS_*`` variable (see ``_ENV``)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8088, ge=0, le=65535)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)  # TTLock callbacks are a few KB; Salto events smaller
    tenant_rate: float = Field(default=200.0, gt=0)  # webhooks a second per tenant, on average
    tenant_burst: float = Field(default=400.0, ge=1)
    produce_timeout_s: float = Field(default=5.0, gt=0)  # the broker must acknowledge within this, or we answer 503
    receipt_retention_s: int = Field(default=86_400, ge=600)  # must stay well above the 300 s signature tolerance
    prune_every_s: float = Field(default=300.0, gt=0)  # how often receipts past the retention are deleted
    cache_ttl_s: float = Field(default=30.0, ge=0)  # how long a rotated secret or directory change takes to apply


_ENV = {
    "LIS_INGRESS_HOST": "host",
    "LIS_INGRESS_PORT": "port",
    "LIS_INGRESS_MAX_BODY_BYTES": "max_body_bytes",
    "LIS_INGRESS_TENANT_RATE": "tenant_rate",
    "LIS_INGRESS_TENANT_BURST": "tenant_burst",
    "LIS_INGRESS_PRODUCE_TIMEOUT_S": "produce_timeout_s",
    "LIS_INGRESS_RECEIPT_RETENTION_S": "receipt_retention_s",
    "LIS_INGRESS_PRUNE_EVERY_S": "prune_every_s",
    "LIS_INGRESS_CACHE_TTL_S": "cache_ttl_s",
}


def load_ingress_settings(env: dict[str, str] | None = None) -> IngressSettings:
    """Settings from ``env`` (default: the process environment)."""
    source = os.environ if env is None else env
    return IngressSettings.model_validate({field: source[name] for name, field in _ENV.items() if name in source})


class Refusal(Exception):
    """A webhook not accepted; ``status`` and ``reason`` are what the sender and the metrics see."""

    def __init__(self, status: int, reason: str, detail: str, *, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.reason = reason
        self.detail = detail
        self.retry_after = retry_after


def unavailable(reason: str, detail: str) -> Refusal:
    """A refusal that is our side's trouble: nothing was accepted, the sender should retry."""
    return Refusal(503, reason, detail, retry_after=5)


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class TenantRateLimit:
    """A token bucket per tenant: ``rate`` webhooks a second on average, bursts of up to ``burst``."""

    rate: float
    burst: float
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def check(self, tenant: str, now: float) -> None:
        """Take one token of ``tenant``'s bucket, or raise a 429 refusal saying when one will be there."""
        bucket = self._buckets.get(tenant)
        if bucket is None:
            bucket = self._buckets[tenant] = _Bucket(tokens=self.burst, updated=now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens < 1.0:
            wait = (1.0 - bucket.tokens) / self.rate
            raise Refusal(429, "rate_limited", f"more than {self.rate:g} webhooks/s for this tenant",
                          retry_after=wait)
        bucket.tokens -= 1.0


class IngressMetrics:
    """The ingress's Prometheus metrics on a registry of its own (one per application, so tests can run several)."""

    def __init__(self, vendors: Collection[str]) -> None:
        self.vendors = vendors  # the names a label may take; any other is counted as ``other``
        self.registry = CollectorRegistry()
        self.responses = Counter(
            "lis_webhook_responses", "Webhook answers by vendor, HTTP status and reason code",
            ["vendor", "status", "reason"], registry=self.registry)
        self.duration = Histogram(
            "lis_webhook_request_seconds", "Time from request to answer, verification and broker ack included",
            ["vendor"], registry=self.registry,
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))

    def answered(self, vendor: str, status: int, reason: str, seconds: float) -> None:
        """Count one answer; unknown vendor names are folded into ``other`` so scanners cannot grow the label set."""
        label = vendor if vendor in self.vendors else "other"
        self.responses.labels(label, str(status), reason).inc()
        self.duration.labels(label).observe(seconds)
