"""The Salto Space API handlers of the sandbox: JSON bodies and query parameters in, ``data`` out, refusals raised.

No HTTP here: ``sandbox`` routes requests to these handlers, injects faults and wraps answers in Salto's envelope.
Validity is checked in Salto's own wire format (site wall-clock time, no offset), independently of the adapter.
Every handler that changes what a user opens does it inside :meth:`SandboxAPI._journaled`, after the last await (the
door command through the gateway), so the journal sees exactly the change the call applied.
"""

from __future__ import annotations

import asyncio
import base64
import re
import secrets
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

from adapters.salto.sandbox_state import SaltoError, SandboxState, Token, User

BEARER = "Bearer"  # the OAuth2 token type
TOKEN_LIFETIME_S = 3600
_SITE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}")
_PIN = re.compile(r"[0-9]{4,8}")


class OAuthError(Exception):
    """A refusal of the identity server, answered as ``{"error": code}`` (RFC 6749 §5.2)."""

    def __init__(self, status: int, code: str) -> None:
        super().__init__(code)
        self.status, self.code = status, code


@dataclass(frozen=True)
class Call:
    """One API request: path parameters, query and JSON body."""

    path: Mapping[str, str]
    query: Mapping[str, str]
    body: Mapping[str, Any]


Op = Callable[[Call], Awaitable[Any]]


class SandboxAPI(SandboxState):
    """The sandbox's Salto endpoints, answering from and acting on its in-memory installation."""

    def issue_token(self, authorization: str, form: Mapping[str, str]) -> dict[str, Any]:
        """``POST /connect/token``: client credentials in HTTP Basic, ``grant_type=client_credentials``."""
        scheme, _, encoded = authorization.partition(" ")
        try:
            client_id, _, client_secret = base64.b64decode(encoded).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            client_id = client_secret = ""  # unparsable: refused below  # nosec B105
        if scheme.lower() != "basic" or self._clients.get(client_id) != client_secret or not client_id:
            raise OAuthError(401, "invalid_client")
        if form.get("grant_type") != "client_credentials":
            raise OAuthError(400, "unsupported_grant_type")
        token = secrets.token_urlsafe(24)
        self._tokens[token] = Token(client_id, self._clock() + TOKEN_LIFETIME_S)
        return {"access_token": token, "token_type": BEARER, "expires_in": TOKEN_LIFETIME_S}

    def authenticate(self, authorization: str) -> None:
        """Accept a live bearer token or refuse with 401."""
        scheme, _, value = authorization.partition(" ")
        token = self._tokens.get(value) if scheme.lower() == "bearer" else None
        if token is None or token.revoked or token.expires_at <= self._clock():
            raise SaltoError(401, "invalid_token")

    async def create_user(self, call: Call) -> dict[str, Any]:
        ext_user_id = str(call.body.get("extUserId") or "")
        if not ext_user_id:
            raise SaltoError(400, "extUserId is required")
        if any(u.ext_user_id == ext_user_id for u in self._users.values()):
            raise SaltoError(409, f"a user with extUserId {ext_user_id} already exists")
        activation, expiration = _window(call.body)
        user = User(
            user_id=self._new_user_id(),
            ext_user_id=ext_user_id,
            first_name=str(call.body.get("firstName") or ""),
            last_name=str(call.body.get("lastName") or ""),
            activation=activation,
            expiration=expiration,
            phone_number=call.body.get("phoneNumber"),
            mobile_app_type=call.body.get("mobileAppType"),
        )
        self._users[user.user_id] = user
        return user.view()

    async def filter_users(self, call: Call) -> dict[str, Any]:
        try:
            max_count, start = int(call.query.get("maxCount", "100")), int(call.query.get("startingFrom", "0"))
        except ValueError:
            raise SaltoError(400, "maxCount and startingFrom must be integers") from None
        if not 1 <= max_count <= 1000 or start < 0:
            raise SaltoError(400, "maxCount must be 1..1000")
        ext, point = call.query.get("extUserId"), call.query.get("accessPointId")
        users = [
            u
            for u in self._users.values()
            if (ext is None or u.ext_user_id == ext) and (point is None or point in u.access_point_ids)
        ]
        page = users[start : start + max_count]
        following = start + max_count if start + max_count < len(users) else None
        return {"items": [u.view() for u in page], "nextStartingFrom": None if following is None else str(following)}

    async def update_user(self, call: Call) -> dict[str, Any]:
        user = self._user(call.path["id"])
        activation, expiration = _window(call.body)
        await self._deliver_to_doors(user)
        with self._journaled(user):
            user.activation, user.expiration = activation, expiration
        return user.view()

    async def delete_user(self, call: Call) -> None:
        user = self._user(call.path["id"])
        await self._deliver_to_doors(user)
        with self._journaled(user):
            del self._users[user.user_id]

    async def set_pin(self, call: Call) -> dict[str, Any]:
        user, pin = self._user(call.path["id"]), str(call.body.get("pinCode") or "")
        if not _PIN.fullmatch(pin):
            raise SaltoError(400, "pinCode must be 4 to 8 digits")
        with self._journaled(user):
            user.pin_code = pin
        return user.view()

    async def grant(self, call: Call) -> dict[str, Any]:
        user, point_id = self._user(call.path["id"]), str(call.body.get("accessPointId") or "")
        if point_id not in self._points:
            raise SaltoError(404, f"access point {point_id} does not exist")
        if point_id in user.access_point_ids:
            return user.view()
        if user.pin_code is not None and any(
            other.pin_code == user.pin_code and point_id in other.access_point_ids for other in self._users.values()
        ):
            raise SaltoError(409, "the PIN code is already used on this access point")
        await self._deliver(point_id)
        with self._journaled(user):
            user.access_point_ids.append(point_id)
        return user.view()

    async def assign_mobile_key(self, call: Call) -> dict[str, Any]:
        user = self._user(call.path["id"])
        if not user.phone_number:
            raise SaltoError(400, "the user has no phone number to send the mobile key to")
        with self._journaled(user):
            user.mobile_key_status = "Assigned"
        return user.view()

    async def cancel_mobile_key(self, call: Call) -> dict[str, Any]:
        user = self._user(call.path["id"])
        with self._journaled(user):
            user.mobile_key_status = "Cancelled"
        return user.view()

    async def encode_card(self, call: Call) -> dict[str, Any]:
        if call.path["encoder_id"] not in self._encoders:
            raise SaltoError(404, f"encoder {call.path['encoder_id']} does not exist")
        user = self._user(str(call.body.get("userId") or ""))
        with self._journaled(user):
            user.card_serial = f"{next(self._serials):08X}"
        return {"cardSerial": user.card_serial, "userId": user.user_id}

    async def list_encoders(self, call: Call) -> list[dict[str, Any]]:
        return [{"id": encoder, "name": f"Encoder {encoder}", "isOnline": True} for encoder in sorted(self._encoders)]

    async def access_point(self, call: Call) -> dict[str, Any]:
        point = self._points.get(call.path["id"])
        if point is None:
            raise SaltoError(404, f"access point {call.path['id']} does not exist")
        return {
            "id": point.access_point_id,
            "name": point.name or f"Door {point.access_point_id}",
            "gatewayId": point.gateway_id,
            "isOnline": self._reachable(point.access_point_id),
            "batteryLevel": point.battery_level,
        }

    def _user(self, user_id: str) -> User:
        user = self._users.get(user_id)
        if user is None:
            raise SaltoError(404, f"user {user_id} does not exist")
        return user

    @contextmanager
    def _journaled(self, user: User) -> Iterator[None]:
        """Journal what the enclosed change of ``user`` does to the doors it opens."""
        with self.journal.changes(partial(self.door_of, user)):
            yield

    def _reachable(self, point_id: str) -> bool:
        gateway_id = self._points[point_id].gateway_id
        gateway = self._gateways.get(gateway_id) if gateway_id is not None else None
        return gateway is not None and gateway.is_online

    async def _deliver_to_doors(self, user: User) -> None:
        for point_id in user.access_point_ids:
            await self._deliver(point_id)

    async def _deliver(self, point_id: str) -> None:
        """Send a command to the door through its gateway: offline answers 503, a gateway already busy 423."""
        if not self._reachable(point_id):
            raise SaltoError(503, f"access point {point_id} is offline: its gateway does not reach it")
        gateway_id = str(self._points[point_id].gateway_id)
        if gateway_id in self._busy:
            self.busy_rejections += 1
            raise SaltoError(423, f"gateway {gateway_id} is busy with another command")
        self._busy.add(gateway_id)
        try:
            await asyncio.sleep(self.gateway_latency_s)
        finally:
            self._busy.discard(gateway_id)


def _window(body: Mapping[str, Any]) -> tuple[str, str]:
    activation, expiration = str(body.get("userActivation") or ""), str(body.get("userExpiration") or "")
    if not (_SITE_TIME.fullmatch(activation) and _SITE_TIME.fullmatch(expiration)):
        raise SaltoError(400, "userActivation and userExpiration must be yyyy-MM-ddTHH:mm:ss (site time)")
    if expiration <= activation:  # the fixed-width format sorts as text in time order
        raise SaltoError(400, "userExpiration must be after userActivation")
    return activation, expiration
