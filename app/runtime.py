"""The worker's long-lived resources (database pool, key store, vendor adapters), created on first use.

Agents ask :func:`runtime` for them, so importing an agent module needs no database, and ``tests/agents`` can
install a runtime of their own (an in-memory directory, a sandbox-backed adapter) with :func:`install`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import faust

from adapters.registry import INSTALLED, Registry
from app.credential_material import CardNumbers, CredentialMaterial
from app.db_retry import until_database_answers
from app.domain.breaker import BreakerSettings
from app.domain.credential import VendorName
from app.domain.directory import LockDirectory
from app.domain.lock_port import LockPort
from app.security.envelope import KeyStore
from app.settings import settings
from app.vendor_calls import RetrySettings, VendorCaller


class PortSource(Protocol):
    async def port(self, tenant: str, property_id: str, vendor: VendorName) -> LockPort: ...


@dataclass
class Runtime:
    directory: LockDirectory
    ports: PortSource
    keys: KeyStore
    cards: CardNumbers
    caller: VendorCaller = field(default_factory=VendorCaller)
    registry: Registry = INSTALLED  # the vendors this worker speaks to: its ports and card numbers use the same

    @property
    def material(self) -> CredentialMaterial:
        """PINs, card numbers and mobile-key accounts for the vendor calls."""
        return CredentialMaterial(self.keys, self.cards, self.registry)


def caller_from_settings() -> VendorCaller:
    retry = RetrySettings(quick_attempts=settings.quick_attempts, delay_base_s=settings.retry_base_s,
                          delay_cap_s=settings.retry_cap_s)
    breaker = BreakerSettings(window_s=settings.breaker_window_s, min_calls=settings.breaker_min_calls,
                              failure_rate=settings.breaker_failure_rate, open_s=settings.breaker_open_s)
    return VendorCaller(retry=retry, breaker=breaker)


_installed: Runtime | None = None


def install(value: Runtime | None) -> None:
    global _installed
    _installed = value


async def runtime() -> Runtime:
    """The installed runtime, or the production one built from settings on first call."""
    global _installed
    if _installed is None:
        from adapters.postgres.card_numbers import PostgresCardNumbers
        from adapters.postgres.directory import PostgresDirectory
        from adapters.postgres.pool import create_pool
        from adapters.registry import VendorPorts

        if not settings.database_url:
            raise RuntimeError("DATABASE_URL is not set: the worker needs the lock directory in PostgreSQL")
        pool = await until_database_answers(lambda: create_pool(settings.database_url))
        keys = settings.keys()
        _installed = Runtime(directory=PostgresDirectory(pool), ports=VendorPorts(pool, keys, INSTALLED), keys=keys,
                             cards=PostgresCardNumbers(pool), caller=caller_from_settings(), registry=INSTALLED)
    return _installed


def quiet_worker(loglevel: str) -> faust.Worker:
    """The Faust worker of ``lis worker``, without faust's terminal spinner: at ``--loglevel warning`` or above the
    spinner puts the root logger at DEBUG for the worker's life, so every library debug line is built and handled
    (aiokafka's fetcher logs one per partition per fetch: about a twelfth of the worker's CPU in the saga bench's
    profile)."""
    from app.logs import worker_logging
    from app.streams import app

    worker = faust.Worker(app, loglevel=loglevel, redirect_stdouts=False,
                          logging_config=worker_logging(settings.log_format, loglevel))
    worker.spinner = None
    return worker
