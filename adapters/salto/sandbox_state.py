"""The Salto sandbox's in-memory installation: API clients, tokens, gateways, access points, encoders and users, and
the journal of what the doors really applied (:mod:`adapters.sandbox_journal`).

For the journal, a user opens an access point when it has an access right to it and carries a key: a PIN code, a
mobile key whose status is ``Assigned``, or an encoded card (a user without any key opens nothing, though
:meth:`SandboxState.users_of` lists it). Each key is a credential of its own on each such door, named like the
service's reference (``pin:<user id>``, ``mobile:<user id>``, ``card:<user id>``): it is issued when the user gains
the key or the access right, updated when the user's validity changes, issued again when the PIN or card changes
(the old one stops opening the door), revoked when the key is cancelled or the user deleted. Validity is converted
from the site's wall-clock time with the site time zone (``siteTimezone`` in the seed, Europe/Berlin by default; the
first of a repeated hour).
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from adapters.sandbox_faults import AMBIGUOUS_MODES, Faults, FaultSeed, everywhere
from adapters.sandbox_journal import DoorCredential, DoorKind, Journal

# Commands that travel to the door through its gateway, one at a time per gateway.
GATEWAY_ROUTES = frozenset(
    {"POST /api/v1/users/{id}/accessrights", "PUT /api/v1/users/{id}", "DELETE /api/v1/users/{id}"}
)
FAULT_MODES = {
    "latency": everywhere,
    "timeout": everywhere,
    "http_5xx": everywhere,
    "rate_limit": everywhere,
    "malformed": everywhere,
    "token_expired": lambda route: " /api/" in route,
    "gateway_busy": GATEWAY_ROUTES.__contains__,
    "gateway_offline": GATEWAY_ROUTES.__contains__,
    "duplicate": "POST /api/v1/users/{id}/accessrights".__eq__,
    # Every call that changes what a door accepts: where an answer lost after the change leaves the client not knowing.
    **dict.fromkeys(AMBIGUOUS_MODES, lambda route: route.startswith(("POST /api/", "PUT /api/", "DELETE /api/"))),
}
SITE_TIMEZONE = "Europe/Berlin"
_SITE_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
_KEY_PREFIXES: dict[DoorKind, str] = {"passcode": "pin", "mobile_key": "mobile", "card": "card"}


class Seed(BaseModel):
    """Admin API bodies and seed-file entries: camelCase on the wire, snake_case as method keywords."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, alias_generator=to_camel)


class ClientSeed(Seed):
    client_id: str
    client_secret: str


class GatewaySeed(Seed):
    gateway_id: str
    is_online: bool = True


class AccessPointSeed(Seed):
    access_point_id: str
    name: str | None = None
    gateway_id: str | None = None  # None: no gateway reaches the door, it is offline
    battery_level: int = Field(default=85, ge=0, le=100)


class EncoderSeed(Seed):
    encoder_id: str


class WebhookSeed(Seed):
    url: str
    secrets: list[str] = Field(min_length=1)  # whsec_… ; two while rotating


class SandboxSeed(Seed):
    """A seed file for ``lis sandbox salto``."""

    random_seed: int = 0
    site_timezone: str = SITE_TIMEZONE  # Salto's wire times are this zone's wall clock
    clients: list[ClientSeed] = []
    gateways: list[GatewaySeed] = []
    access_points: list[AccessPointSeed] = []
    encoders: list[EncoderSeed] = []
    faults: list[FaultSeed] = []


class SaltoError(Exception):
    """A refusal answered with ``status`` and ``{"success": false, "message": ...}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status} {message}")
        self.status, self.message = status, message


@dataclass
class User:
    user_id: str
    ext_user_id: str
    first_name: str
    last_name: str
    activation: str  # site wall-clock time, as on the wire
    expiration: str
    phone_number: str | None = None
    mobile_app_type: str | None = None
    pin_code: str | None = None
    mobile_key_status: str = "None"
    card_serial: str | None = None
    access_point_ids: list[str] = field(default_factory=list)

    def view(self) -> dict[str, Any]:
        """The user as ``/api/v1/users`` answers it; the PIN itself is never shown."""
        return {
            "id": self.user_id,
            "extUserId": self.ext_user_id,
            "firstName": self.first_name,
            "lastName": self.last_name,
            "phoneNumber": self.phone_number,
            "mobileAppType": self.mobile_app_type,
            "userActivation": self.activation,
            "userExpiration": self.expiration,
            "accessPointIds": list(self.access_point_ids),
            "hasPinCode": self.pin_code is not None,
            "mobileKeyStatus": self.mobile_key_status,
            "cardSerial": self.card_serial,
        }

    def carried_keys(self) -> list[tuple[DoorKind, str | None]]:
        """The keys the user carries, each with its secret: the PIN, the phone the mobile key went to, the card."""
        keys: list[tuple[DoorKind, str | None]] = []
        if self.pin_code is not None:
            keys.append(("passcode", self.pin_code))
        if self.mobile_key_status == "Assigned":
            keys.append(("mobile_key", self.phone_number))
        if self.card_serial is not None:
            keys.append(("card", self.card_serial))
        return keys


@dataclass
class Token:
    client_id: str
    expires_at: float
    revoked: bool = False


class SandboxState:
    """In-memory Salto installation; shared by the admin API and in-process tests."""

    def __init__(
        self,
        *,
        seed: int = 0,
        gateway_latency_s: float = 0.005,
        clock: Callable[[], float] = time.time,
        site_timezone: str = SITE_TIMEZONE,
    ):
        self.faults = Faults(FAULT_MODES, seed)
        self.gateway_latency_s = gateway_latency_s  # long enough that two commands on one gateway really overlap
        self.calls: Counter[str] = Counter()
        self.busy_rejections = 0
        self.webhooks: WebhookSeed | None = None
        self.deliveries: Counter[str] = Counter()  # webhook deliveries by HTTP status of the receiver
        self.site = ZoneInfo(site_timezone)
        self.journal = Journal(clock)
        self._clock = clock
        self._clients: dict[str, str] = {}
        self._tokens: dict[str, Token] = {}
        self._gateways: dict[str, GatewaySeed] = {}
        self._busy: set[str] = set()
        self._points: dict[str, AccessPointSeed] = {}
        self._encoders: set[str] = set()
        self._users: dict[str, User] = {}
        self._serials = itertools.count(0x5A170001)

    def add_client(self, client_id: str, client_secret: str) -> None:
        """Register an API client for the client-credentials grant."""
        self._clients[client_id] = client_secret

    def set_gateway(self, gateway_id: str, *, is_online: bool = True) -> list[str]:
        """Add a gateway or switch it on- or offline; returns the access points behind it."""
        self._gateways[gateway_id] = GatewaySeed(gateway_id=gateway_id, is_online=is_online)
        return [p.access_point_id for p in self._points.values() if p.gateway_id == gateway_id]

    def add_access_point(self, access_point_id: str, **options: Any) -> None:
        """Add (or replace) a door; options as :class:`AccessPointSeed`. A new gateway id adds an online gateway."""
        point = AccessPointSeed(access_point_id=access_point_id, **options)
        if point.gateway_id is not None and point.gateway_id not in self._gateways:
            self.set_gateway(point.gateway_id)
        self._points[access_point_id] = point

    def add_encoder(self, encoder_id: str) -> None:
        """Attach a card encoder to the installation."""
        self._encoders.add(encoder_id)

    def revoke_tokens(self) -> None:
        """Expire every access token, as when Salto's identity server rotates its keys."""
        for token in self._tokens.values():
            token.revoked = True

    def users_of(self, access_point_id: str) -> list[dict[str, Any]]:
        """What really opens the door: users with an access right to it and a key, with the kind of key."""
        if access_point_id not in self._points:
            raise KeyError(access_point_id)
        return [u.view() for u in self._users.values() if access_point_id in u.access_point_ids]

    def door_of(self, user: User) -> list[DoorCredential]:
        """What ``user`` opens, for the journal: each of its keys on each door it has a right to (nothing once
        deleted)."""
        if self._users.get(user.user_id) is not user:
            return []
        valid_from, valid_until = self._epoch_ms(user.activation), self._epoch_ms(user.expiration)
        return [
            DoorCredential(
                lock=point_id,
                credential=f"{_KEY_PREFIXES[kind]}:{user.user_id}",
                kind=kind,
                label=user.ext_user_id,
                valid_from_ms=valid_from,
                valid_until_ms=valid_until,
                secret=secret,
            )
            for point_id in user.access_point_ids
            for kind, secret in user.carried_keys()
        ]

    def stats(self) -> dict[str, Any]:
        """Calls per route, users, faults fired, gateway-busy refusals and webhook deliveries."""
        return {
            "calls": dict(self.calls),
            "users": len(self._users),
            "faultsFired": dict(self.faults.fired),
            "gatewayBusyRejections": self.busy_rejections,
            "webhookDeliveries": dict(self.deliveries),
        }

    def apply_seed(self, seed: SandboxSeed) -> None:
        """Load clients, gateways, access points, encoders and faults from a seed file's content."""
        for client in seed.clients:
            self.add_client(client.client_id, client.client_secret)
        for gateway in seed.gateways:
            self.set_gateway(gateway.gateway_id, is_online=gateway.is_online)
        for point in seed.access_points:
            self.add_access_point(**point.model_dump())
        for encoder in seed.encoders:
            self.add_encoder(encoder.encoder_id)
        for fault in seed.faults:
            self.faults.arm(fault)

    def _new_user_id(self) -> str:
        return str(uuid.uuid4())

    def _epoch_ms(self, site_time: str) -> int:
        return int(datetime.strptime(site_time, _SITE_TIME_FORMAT).replace(tzinfo=self.site).timestamp() * 1000)
