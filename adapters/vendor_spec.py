"""What a vendor folder exports: one :class:`VendorSpec`, the only thing the rest of the service knows of a vendor.

``adapters/<vendor>/spec.py`` defines ``SPEC``; ``adapters/registry.py`` lists the specs, one line each. The
registry, the directory file's validation, the webhook ingress, credential material and the contract suite read
them; none of them names a vendor. docs/VENDOR_ADAPTERS.md ("Adding a vendor") lists the files a new vendor writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from pydantic import BaseModel

from app.domain.credential import LockRef
from app.domain.lock_port import LockPort
from app.domain.lock_status import VendorEvent

C = TypeVar("C", bound=BaseModel)


class WebhookRefused(Exception):
    """A webhook the vendor's format does not accept: ``status`` and ``reason`` are what the sender and the
    ingress's metrics see (the ingress answers with them)."""

    def __init__(self, status: int, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class ParsedWebhook:
    """A webhook body read by its vendor's format, not yet trusted beyond its signature (if it has one)."""

    vendor_lock_id: str
    events: tuple[VendorEvent, ...]
    identity: str = ""  # what makes it this webhook (its replay key) when the vendor sends no signed id
    callback: object = None  # the vendor's own reading of the body, for its ``confirm``


class WebhookFormat(Protocol):
    """How a vendor's webhooks are authenticated and read at the ingress.

    ``signed``: Standard Webhooks signature headers (``POST /webhooks/<vendor>/<tenant>``); unsigned formats carry
    the tenant's path secret instead (``POST /webhooks/<vendor>/<tenant>/<path_secret>``) and must ``confirm`` what
    they claim with the vendor."""

    @property
    def signed(self) -> bool: ...

    @property
    def ack_text(self) -> str | None:
        """The plain-text answer the vendor expects (TTLock: ``success``); None: a JSON 202."""
        ...

    def parse(self, body: bytes) -> ParsedWebhook:
        """The lock and the canonical events of an authenticated body; WebhookRefused (400) when it is not one."""
        ...

    async def confirm(self, parsed: ParsedWebhook, port: LockPort, lock: LockRef,
                      not_before: datetime) -> tuple[VendorEvent, ...]:
        """The events as the vendor itself confirms them (events older than ``not_before`` refused); a signed
        format returns ``parsed.events``."""
        ...


@dataclass(frozen=True)
class VendorSpec(Generic[C]):
    """One vendor: its name, account configuration, adapter factory and what it needs from the service."""

    name: str  # in the directory, on every event and record, in webhook URLs (app.domain.credential.VendorName)
    config_model: type[C]  # a property's vendor_accounts entry; SecretStr fields are secrets
    make_port: Callable[[C, bytes], LockPort]  # (validated account configuration, the tenant's card-token key)
    title: str = ""  # how people write it (TTLock, Salto Space); the name when empty
    card_number_max: int | None = None  # highest card number its card format takes; None: it numbers its own cards
    webhooks: WebhookFormat | None = None  # None: the vendor sends none
    # its dev tooling module (adapters/dev_sandbox.py: `lis sandbox <vendor>`, and its sandbox in lis dev and the
    # tests); a module name, so importing the spec loads no dev tooling. Empty: no sandbox the dev stack can start.
    dev_sandbox: str = ""

    def port(self, config: dict[str, object], card_key: bytes) -> LockPort:
        """The adapter for an account's decrypted configuration; pydantic's ValidationError when it is not one."""
        return self.make_port(self.config_model.model_validate(config), card_key)

    @property
    def display(self) -> str:
        return self.title or self.name
