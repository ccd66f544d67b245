"""The toy vendor's sandbox: its JSON API on 127.0.0.1, locks behind gateways that carry out one command at a time,
faults from the shared fault module, and an admin API (``/sandbox/...``) for tests to set up and inspect it."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from adapters.sandbox_faults import Faults, FaultSeed, add_fault_routes, delay, everywhere, serve_loopback

FAULT_MODES = {"http_5xx": everywhere, "rate_limit": everywhere, "timeout": everywhere, "latency": everywhere}
COMMAND_S = 0.05  # how long a gateway is busy with one command
RETRY_AFTER_S = 2


@dataclass
class ToyLock:
    gateway: str | None
    codes: dict[str, dict[str, str]] = field(default_factory=dict)


class ToySandbox:
    def __init__(self) -> None:
        self.locks: dict[str, ToyLock] = {}
        self.offline: set[str] = set()  # gateways switched off
        self.faults = Faults(FAULT_MODES)
        self.busy: set[str] = set()
        self.busy_rejections = 0
        self._ids = itertools.count(1)

    @asynccontextmanager
    async def serve(self, host: str, port: int) -> AsyncIterator[str]:
        async with serve_loopback(self.app(), host, port, what="toy vendor sandbox") as url:
            yield url

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/v1/locks/{lock}", self._api(self._status))
        app.router.add_get("/v1/locks/{lock}/codes", self._api(self._codes))
        app.router.add_post("/v1/locks/{lock}/codes", self._api(self._issue))
        app.router.add_patch("/v1/locks/{lock}/codes/{code}", self._api(self._update))
        app.router.add_delete("/v1/locks/{lock}/codes/{code}", self._api(self._revoke))
        app.router.add_post("/sandbox/locks", self._add_lock)
        app.router.add_post("/sandbox/gateways", self._switch_gateway)
        app.router.add_get("/sandbox/locks/{lock}/credentials", self._inspect)
        app.router.add_get("/sandbox/stats", self._stats)
        add_fault_routes(app, self.faults)
        return app

    def _api(self, handler: Callable[[web.Request, ToyLock, dict[str, Any]], Awaitable[web.Response]]
             ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def call(request: web.Request) -> web.StreamResponse:
            body = await request.json() if request.can_read_body else {}

            async def execute() -> web.StreamResponse:
                lock = self.locks.get(request.match_info["lock"])
                if lock is None:
                    return _error(404, "unknown_lock")
                return await handler(request, lock, body)

            return await self.faults.serve(request.path, execute, _inject)
        return call

    async def _on_gateway(self, lock: ToyLock, change: Callable[[], web.Response]) -> web.Response:
        """Carry a command out through the lock's gateway, which does one at a time."""
        if lock.gateway is None or lock.gateway in self.offline:
            return _error(503, "gateway_offline")
        if lock.gateway in self.busy:
            self.busy_rejections += 1
            return _error(409, "gateway_busy")
        self.busy.add(lock.gateway)
        try:
            await asyncio.sleep(COMMAND_S)
            return change()
        finally:
            self.busy.discard(lock.gateway)

    async def _status(self, request: web.Request, lock: ToyLock, body: dict[str, Any]) -> web.Response:
        online = lock.gateway is not None and lock.gateway not in self.offline
        return web.json_response({"online": online, "battery": 87, "checkedAt": datetime.now(UTC).isoformat()})

    async def _codes(self, request: web.Request, lock: ToyLock, body: dict[str, Any]) -> web.Response:
        return web.json_response({"codes": list(lock.codes.values())})

    async def _issue(self, request: web.Request, lock: ToyLock, body: dict[str, Any]) -> web.Response:
        def change() -> web.Response:
            if any(code["pin"] == body["pin"] for code in lock.codes.values()):
                return _error(409, "duplicate_pin")
            code = {"id": f"c{next(self._ids)}", **{k: body[k] for k in ("label", "pin", "starts", "ends")}}
            lock.codes[code["id"]] = code
            return web.json_response(code, status=201)
        return await self._on_gateway(lock, change)

    async def _update(self, request: web.Request, lock: ToyLock, body: dict[str, Any]) -> web.Response:
        code = lock.codes.get(request.match_info["code"])
        if code is None:
            return _error(404, "unknown_code")

        def change() -> web.Response:
            code.update(starts=body["starts"], ends=body["ends"])
            return web.json_response(code)
        return await self._on_gateway(lock, change)

    async def _revoke(self, request: web.Request, lock: ToyLock, body: dict[str, Any]) -> web.Response:
        if request.match_info["code"] not in lock.codes:
            return _error(404, "unknown_code")

        def change() -> web.Response:
            lock.codes.pop(request.match_info["code"], None)
            return web.Response(status=204)
        return await self._on_gateway(lock, change)

    async def _add_lock(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.locks[body["lockId"]] = ToyLock(gateway=body.get("gatewayId"))
        return web.json_response(body, status=201)

    async def _switch_gateway(self, request: web.Request) -> web.Response:
        body = await request.json()
        (self.offline.discard if body["online"] else self.offline.add)(body["gatewayId"])
        return web.json_response(body)

    async def _inspect(self, request: web.Request) -> web.Response:
        lock = self.locks.get(request.match_info["lock"])
        return web.json_response(list(lock.codes.values()) if lock else [])

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response({"faultsFired": dict(self.faults.fired),
                                  "gatewayBusyRejections": self.busy_rejections})


async def _inject(fault: FaultSeed) -> web.StreamResponse | None:
    if fault.mode == "http_5xx":
        return _error(500, "internal")
    if fault.mode == "rate_limit":
        return web.json_response({"error": "rate_limited"}, status=429, headers={"Retry-After": str(RETRY_AFTER_S)})
    await delay(fault, 100)  # latency
    return None


def _error(status: int, code: str) -> web.Response:
    return web.json_response({"error": code}, status=status)
