"""The vendors this service speaks to, one line each, and the LockPort of a property's vendor built from its sealed
account configuration. A new vendor is one folder (``adapters/<vendor>/``, its ``spec.py`` defining ``SPEC``) and
one line in :data:`SPECS` (docs/VENDOR_ADAPTERS.md, "Adding a vendor")."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import asyncpg

from adapters.postgres.vendor_accounts import load_vendor_account
from adapters.salto.spec import SPEC as SALTO
from adapters.ttlock.spec import SPEC as TTLOCK
from adapters.vendor_spec import VendorSpec
from adapters.wiegand.spec import SPEC as WIEGAND
from app.domain.errors import Unauthorized, Unsupported
from app.domain.lock_port import LockPort
from app.security.envelope import KeyPurpose, KeyStore

SPECS: tuple[VendorSpec[Any], ...] = (
    TTLOCK,
    SALTO,
    WIEGAND,
)


class Registry:
    """Vendor specs by name: the installed ones (:data:`SPECS`) unless told otherwise (a test adds its own)."""

    def __init__(self, specs: Iterable[VendorSpec[Any]] = SPECS) -> None:
        self._specs = {spec.name: spec for spec in specs}

    def __iter__(self) -> Iterator[VendorSpec[Any]]:
        return iter(self._specs.values())

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._specs)

    def spec(self, name: str) -> VendorSpec[Any]:
        """The spec of vendor ``name``; Unsupported when no such vendor is installed."""
        try:
            return self._specs[name]
        except KeyError:
            raise Unsupported(f"no adapter for vendor {name!r} (installed: {', '.join(self._specs)})") from None


INSTALLED = Registry()


class VendorPorts:
    """One adapter per (tenant, property, vendor), created on first use and kept for the worker's life."""

    def __init__(self, pool: asyncpg.Pool, keys: KeyStore, registry: Registry = INSTALLED) -> None:
        self._pool = pool
        self._keys = keys
        self._registry = registry
        self._ports: dict[tuple[str, str, str], LockPort] = {}

    async def port(self, tenant: str, property_id: str, vendor: str) -> LockPort:
        key = (tenant, property_id, vendor)
        if key not in self._ports:
            spec = self._registry.spec(vendor)
            config = await load_vendor_account(self._pool, self._keys, tenant, property_id, vendor)
            if config is None:
                raise Unauthorized(f"no {spec.display} account configured for {tenant}/{property_id}")
            self._ports[key] = spec.port(config, self._keys.purpose_key(tenant, KeyPurpose.CARD_TOKEN))
        return self._ports[key]

    async def aclose(self) -> None:
        for port in self._ports.values():
            await port.aclose()
        self._ports.clear()
