"""A Salto Space sandbox: a real aiohttp server speaking the Salto cloud API's wire format.

It is the honest fake of the Salto adapter: OAuth2 client credentials on ``/connect/token`` (HTTP Basic), bearer
tokens, JSON under ``/api/v1/`` wrapped in ``{"success", "message", "data"}``, HTTP status codes for refusals, users
keyed by ``extUserId``, commands to doors delivered one at a time per gateway, and event callbacks signed with the
Standard Webhooks scheme. It journals what the doors really applied (``GET /sandbox/journal``). Tests drive it
through the JSON admin API under ``/sandbox/`` (or in-process, e.g. ``sandbox.faults.set("rate_limit", count=1)``).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import cached_property
from typing import Any

import httpx
from aiohttp import web
from pydantic import ValidationError

from adapters.salto.sandbox_api import Call, OAuthError, Op, SandboxAPI
from adapters.salto.sandbox_state import (
    AccessPointSeed,
    ClientSeed,
    EncoderSeed,
    GatewaySeed,
    SaltoError,
    SandboxSeed,
    Seed,
    WebhookSeed,
)
from adapters.salto.webhook import signed_headers
from adapters.sandbox_faults import (
    LOOPBACK,
    FaultSeed,
    add_fault_routes,
    delay,
    serve_loopback,
)
from adapters.sandbox_journal import add_journal_route

__all__ = ["SANDBOX_KEY", "SaltoSandbox", "SandboxSeed", "run_sandbox"]

_FAULT_ANSWERS = {  # fault -> (status, message) answered in Salto's error envelope
    "rate_limit": (429, "Too many requests"),
    "gateway_busy": (423, "gateway busy with another command"),
    "gateway_offline": (503, "gateway offline"),
    "duplicate": (409, "the PIN code is already used on this access point"),
}
_RETRY_AFTER_S = 1


class SaltoSandbox(SandboxAPI):
    """The Salto installation in memory, served over HTTP: Salto's API and the ``/sandbox/`` admin API."""

    @cached_property
    def _routes(self) -> dict[str, tuple[Op, int]]:
        """Salto's authenticated endpoints: ``METHOD /path/{param}`` -> (handler, success status)."""
        return {
            "POST /api/v1/users": (self.create_user, 201),
            "GET /api/v1/users/Filtered": (self.filter_users, 200),
            "PUT /api/v1/users/{id}": (self.update_user, 200),
            "DELETE /api/v1/users/{id}": (self.delete_user, 200),
            "PUT /api/v1/users/{id}/pincode": (self.set_pin, 200),
            "POST /api/v1/users/{id}/accessrights": (self.grant, 200),
            "POST /api/v1/users/{id}/mobilekey/assign": (self.assign_mobile_key, 200),
            "POST /api/v1/users/{id}/mobilekey/cancel": (self.cancel_mobile_key, 200),
            "GET /api/v1/encoders": (self.list_encoders, 200),
            "POST /api/v1/encoders/{encoder_id}/encode": (self.encode_card, 200),
            "GET /api/v1/accesspoints/{id}": (self.access_point, 200),
        }

    # -- the Salto wire API: routing, fault injection, envelopes -------------------------------------------------------

    def _endpoint(self, route: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            return await self._api(route, request)

        return handle

    async def _api(self, route: str, request: web.Request) -> web.StreamResponse:
        self.calls[route] += 1
        await request.read()  # the whole body now: a late execution may run after the client hung up
        return await self.faults.serve(route, lambda: self._execute(route, request), self._inject)

    async def _execute(self, route: str, request: web.Request) -> web.StreamResponse:
        try:
            if route == "POST /connect/token":
                form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
                return web.json_response(self.issue_token(request.headers.get("Authorization", ""), form))
            self.authenticate(request.headers.get("Authorization", ""))
            body = await request.json() if request.body_exists else {}
            if not isinstance(body, dict):
                raise SaltoError(400, "the body must be a JSON object")
            handler, status = self._routes[route]
            data = await handler(Call(dict(request.match_info), request.query, body))
        except OAuthError as err:
            return web.json_response({"error": err.code}, status=err.status)
        except json.JSONDecodeError:
            return _refused(400, "the body is not JSON")
        except SaltoError as err:
            headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if err.status == 401 else None
            return _refused(err.status, err.message, headers)
        return web.json_response({"success": True, "message": "", "data": data}, status=status)

    async def _inject(self, fault: FaultSeed) -> web.StreamResponse | None:
        """The faulty answer, or None when the fault only delays or alters state and the call goes on."""
        if fault.mode == "latency":
            await delay(fault, 200)
        elif fault.mode == "token_expired":
            self.revoke_tokens()
        elif fault.mode == "http_5xx":
            status = self.faults.rng.choice((502, 503, 504))
            return web.Response(status=status, text=f"{status} from the load balancer")
        elif fault.mode == "malformed":
            return web.Response(text="<html><body>maintenance</body></html>", content_type="text/html")
        else:
            status, message = _FAULT_ANSWERS[fault.mode]
            wait = fault.retry_after_s if fault.retry_after_s is not None else _RETRY_AFTER_S
            headers = {"Retry-After": str(wait)} if status == 429 else None
            return _refused(status, message, headers)
        return None

    # -- signed event callbacks ----------------------------------------------------------------------------------------

    async def emit(self, event_type: str, access_point_id: str, **fields: Any) -> int | None:
        """POST one event to the configured callback URL, signed; returns the receiver's status (None: no URL)."""
        if self.webhooks is None:
            return None
        event = {
            "id": f"evt_{secrets.token_hex(8)}",
            "type": event_type,
            "accessPointId": access_point_id,
            "occurredAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self._clock())),
            **fields,
        }
        body = json.dumps(event).encode()
        headers = signed_headers(self.webhooks.secrets, f"msg_{secrets.token_hex(12)}", int(self._clock()), body)
        try:
            async with httpx.AsyncClient(timeout=2.0) as http:
                response = await http.post(self.webhooks.url, content=body, headers=headers)
        except httpx.HTTPError as err:
            self.deliveries[type(err).__name__] += 1
            return None
        self.deliveries[str(response.status_code)] += 1
        return response.status_code

    # -- the admin API: JSON under /sandbox/, not part of Salto --------------------------------------------------------

    def create_app(self) -> web.Application:
        """The aiohttp application: Salto's API plus the ``/sandbox/`` admin API."""
        app = web.Application()
        app[SANDBOX_KEY] = self
        for route in ("POST /connect/token", *self._routes):
            method, path = route.split(" ", 1)
            app.router.add_route(method, path, self._endpoint(route))
        app.router.add_post("/sandbox/clients", self._admin(ClientSeed))
        app.router.add_post("/sandbox/accesspoints", self._admin(AccessPointSeed))
        app.router.add_post("/sandbox/encoders", self._admin(EncoderSeed))
        app.router.add_post("/sandbox/gateways", self._admin(GatewaySeed))
        app.router.add_post("/sandbox/webhooks", self._admin(WebhookSeed))
        app.router.add_get("/sandbox/accesspoints/{id}/users", self._door_users)
        app.router.add_post("/sandbox/accesspoints/{id}/events", self._door_event)
        app.router.add_get("/sandbox/stats", self._stats)
        add_fault_routes(app, self.faults)
        add_journal_route(app, self.journal)
        return app

    def _admin(self, model: type[Seed]) -> Callable[[web.Request], Awaitable[web.Response]]:
        """A JSON admin endpoint: validate the body as ``model``, apply it, answer the body."""

        async def handle(request: web.Request) -> web.Response:
            try:
                seed = model.model_validate_json(await request.read())
                await self._apply(seed)
            except (ValidationError, ValueError) as err:
                return web.json_response({"error": str(err)}, status=400)
            return web.json_response(seed.model_dump(by_alias=True), status=201)

        return handle

    async def _apply(self, seed: Seed) -> None:
        if isinstance(seed, ClientSeed):
            self.add_client(seed.client_id, seed.client_secret)
        elif isinstance(seed, AccessPointSeed):
            self.add_access_point(**seed.model_dump())
        elif isinstance(seed, EncoderSeed):
            self.add_encoder(seed.encoder_id)
        elif isinstance(seed, WebhookSeed):
            if httpx.URL(seed.url).host not in LOOPBACK:
                raise ValueError("the sandbox only calls back to loopback URLs")
            self.webhooks = seed
        elif isinstance(seed, GatewaySeed):
            was_online = self._gateways.get(seed.gateway_id, seed).is_online
            for point_id in self.set_gateway(seed.gateway_id, is_online=seed.is_online):
                if was_online != seed.is_online:
                    await self.emit("accessPoint.online" if seed.is_online else "accessPoint.offline", point_id)

    async def _door_users(self, request: web.Request) -> web.Response:
        try:
            return web.json_response(self.users_of(request.match_info["id"]))
        except KeyError:
            raise web.HTTPNotFound(text=f"no access point {request.match_info['id']}") from None

    async def _door_event(self, request: web.Request) -> web.Response:
        body = await request.json()
        fields = {k: v for k, v in body.items() if k in ("extUserId", "batteryLevel")}
        status = await self.emit(str(body.get("type", "door.opened")), request.match_info["id"], **fields)
        return web.json_response({"receiverStatus": status}, status=201)

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats())

    @asynccontextmanager
    async def serve(self, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
        """Serve on loopback (port 0: a free port); yields the base URL."""
        async with serve_loopback(self.create_app(), host, port, what="Salto sandbox") as url:
            yield url


def _refused(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"success": False, "message": message, "data": None}, status=status, headers=headers)


SANDBOX_KEY = web.AppKey("salto_sandbox", SaltoSandbox)


async def run_sandbox(host: str, port: int, *, seed: SandboxSeed | None = None) -> None:
    """Run a Salto sandbox on loopback until cancelled (``lis sandbox salto``)."""
    seed = seed or SandboxSeed()
    sandbox = SaltoSandbox(seed=seed.random_seed, site_timezone=seed.site_timezone)
    sandbox.apply_seed(seed)
    async with sandbox.serve(host, port):
        await asyncio.Event().wait()
