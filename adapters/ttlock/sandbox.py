"""A TTLock Open Platform sandbox: a real aiohttp server speaking the cloud API v3 wire format.

It is the honest fake of the TTLock adapter: form-encoded requests carrying ``clientId``/``accessToken``/``date``,
HTTP 200 JSON answers with TTLock's errcodes, one command at a time per gateway, at most 250 passcodes per lock, and
passcodes added with ``addType=1`` kept in the cloud only (at TTLock they never reach the lock either), and a journal
of what the locks really applied (``GET /sandbox/journal``).
Tests in another process drive it through the JSON admin API under ``/sandbox/``; tests in the same process may call
the same methods directly, e.g. ``sandbox.faults.set("gateway_busy", count=1)``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import cached_property
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from adapters.sandbox_faults import (
    FaultSeed,
    add_fault_routes,
    delay,
    serve_loopback,
)
from adapters.sandbox_journal import add_journal_route
from adapters.ttlock.sandbox_api import DATE_TOLERANCE_MS, MAX_PASSCODES, TOKEN_LIFETIME_S, Op, SandboxAPI
from adapters.ttlock.sandbox_state import (
    AccountSeed,
    Credential,
    GatewaySeed,
    Lock,
    LockSeed,
    SandboxSeed,
    Seed,
    TTLockError,
)

__all__ = [
    "DATE_TOLERANCE_MS",
    "MAX_PASSCODES",
    "SANDBOX_KEY",
    "TOKEN_LIFETIME_S",
    "AccountSeed",
    "Credential",
    "GatewaySeed",
    "Lock",
    "LockSeed",
    "SandboxSeed",
    "Seed",
    "TTLockError",
    "TTLockSandbox",
    "run_sandbox",
]

_OK = {"errcode": 0, "errmsg": "none error message", "description": ""}
_FAULT_ERRCODES = {
    "rate_limit": (30006, "exceeds the restrictions of API call number"),
    "gateway_busy": (-3003, "gateway busy"),
    "gateway_offline": (-3002, "gateway offline"),
    "duplicate": (-3007, "the same passcode already exists"),
}

_Handler = Callable[[web.Request], Awaitable[web.Response]]


class TTLockSandbox(SandboxAPI):
    """The TTLock cloud in memory, served over HTTP: TTLock's API v3 and the ``/sandbox/`` admin API."""

    @cached_property
    def _ops(self) -> dict[str, Op]:
        """TTLock's authenticated v3 endpoints, by path."""
        return {
            "/v3/keyboardPwd/add": self._passcode_add,
            "/v3/keyboardPwd/delete": self._passcode_delete,
            "/v3/keyboardPwd/change": self._passcode_change,
            "/v3/keyboardPwd/get": self._passcode_get,
            "/v3/lock/listKeyboardPwd": self._list_of("passcode"),
            "/v3/key/send": self._ekey_send,
            "/v3/key/delete": self._ekey_delete,
            "/v3/key/changePeriod": self._ekey_change,
            "/v3/lock/listKey": self._list_of("ekey"),
            "/v3/identityCard/add": self._card_add,
            "/v3/identityCard/delete": self._card_delete,
            "/v3/identityCard/changePeriod": self._card_change,
            "/v3/identityCard/list": self._list_of("card"),
            "/v3/gateway/list": self._gateway_list,
            "/v3/gateway/listByLock": self._gateway_list_by_lock,
            "/v3/lock/detail": self._lock_detail,
            "/v3/lockRecord/list": self._record_list,
        }

    # -- the TTLock wire API: routing, fault injection, JSON answers ---------------------------------------------------

    async def _api(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.calls[path] += 1
        params: dict[str, str] = dict(request.query)
        if request.method == "POST":
            params.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
        return await self.faults.serve(path, lambda: self._execute(path, params), self._inject)

    async def _execute(self, path: str, params: dict[str, str]) -> web.Response:
        try:
            if path == "/oauth2/token":
                return web.json_response(self._oauth(params))
            uid = self._authenticate(params)
            result = await self._ops[path](params, uid)
        except TTLockError as err:
            return web.json_response({"errcode": err.code, "errmsg": err.msg})
        return web.json_response(result if result else _OK)

    async def _inject(self, fault: FaultSeed) -> web.StreamResponse | None:
        """The faulty answer, or None when the fault only delays or alters state and the call goes on."""
        if fault.mode == "latency":
            await delay(fault, 200)
        elif fault.mode == "token_expired":
            self.revoke_tokens()
        elif fault.mode == "http_5xx":
            status = self.faults.rng.choice((502, 503))
            return web.Response(status=status, text=f"{status} from the load balancer")
        elif fault.mode == "malformed":
            return web.Response(text="<html><body>upstream error</body></html>", content_type="text/html")
        else:
            code, msg = _FAULT_ERRCODES[fault.mode]
            return web.json_response({"errcode": code, "errmsg": msg})
        return None

    # -- the admin API: JSON under /sandbox/, not part of TTLock -------------------------------------------------------

    def create_app(self) -> web.Application:
        """The aiohttp application: TTLock's API plus the ``/sandbox/`` admin API."""
        app = web.Application()
        app[SANDBOX_KEY] = self
        for path in ("/oauth2/token", *self._ops):
            app.router.add_route("*", path, self._api)
        app.router.add_post("/sandbox/accounts", self._admin(AccountSeed, lambda s: {"uid": self.add_account(**s)}))
        app.router.add_post("/sandbox/locks", self._admin(LockSeed, lambda s: self.add_lock(**s)))
        app.router.add_post("/sandbox/gateways", self._admin(GatewaySeed, lambda s: self.set_gateway(**s)))
        app.router.add_get("/sandbox/stats", self._stats)
        app.router.add_get("/sandbox/locks/{lock_id}/credentials", self._lock_credentials)
        app.router.add_post("/sandbox/locks/{lock_id}/records", self._lock_record)
        app.router.add_post("/sandbox/locks/{lock_id}/keypad", self._keypad)
        add_fault_routes(app, self.faults)
        add_journal_route(app, self.journal)
        return app

    def _admin(self, model: type[Seed], apply: Callable[[dict[str, Any]], Any]) -> _Handler:
        """A JSON admin endpoint: validate the body as ``model``, apply it, answer the result (or the body)."""

        async def handle(request: web.Request) -> web.Response:
            try:
                seed = model.model_validate_json(await request.read())
                result = apply(seed.model_dump())
                return web.json_response(seed.model_dump(by_alias=True) if result is None else result, status=201)
            except ValidationError as err:
                return web.json_response({"error": err.errors(include_url=False, include_context=False)}, status=400)
            except KeyError as err:
                return web.json_response({"error": str(err)}, status=404)

        return handle

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats())

    async def _lock_credentials(self, request: web.Request) -> web.Response:
        lock_id = int(request.match_info["lock_id"])
        if lock_id not in self._locks:
            raise web.HTTPNotFound(text=f"no lock {lock_id}")
        return web.json_response(self.credentials(lock_id, include_cloud_only=request.query.get("all") == "1"))

    async def _lock_record(self, request: web.Request) -> web.Response:
        lock_id, body = int(request.match_info["lock_id"]), await request.json()
        if lock_id not in self._locks:
            raise web.HTTPNotFound(text=f"no lock {lock_id}")
        return web.json_response(
            self.add_record(
                lock_id,
                int(body["recordType"]),
                success=bool(body.get("success", True)),
                username=str(body.get("username", "")),
                keyboard_pwd=str(body.get("keyboardPwd", "")),
            ),
            status=201,
        )

    async def _keypad(self, request: web.Request) -> web.Response:
        """``POST /sandbox/locks/{lock_id}/keypad {"code": "…", "at": <epoch ms, default now>}``: type a code on the
        lock's keypad; ``{"opened": true|false}``, and the lock keeps a record of the attempt."""
        lock_id, body = int(request.match_info["lock_id"]), await request.json()
        if lock_id not in self._locks:
            raise web.HTTPNotFound(text=f"no lock {lock_id}")
        at = None if body.get("at") is None else int(body["at"])
        return web.json_response({"opened": self.type_code(lock_id, str(body["code"]), at)})

    @asynccontextmanager
    async def serve(self, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
        """Serve on loopback (port 0: a free port); yields the base URL, e.g. ``http://127.0.0.1:41234``."""
        async with serve_loopback(self.create_app(), host, port, what="TTLock sandbox") as url:
            yield url


SANDBOX_KEY = web.AppKey("ttlock_sandbox", TTLockSandbox)


async def run_sandbox(host: str, port: int, *, seed: SandboxSeed | None = None) -> None:
    """Run a TTLock sandbox on loopback until cancelled (``lis sandbox ttlock``), with the seed's accounts, gateways,
    locks and faults."""
    seed = seed or SandboxSeed()
    sandbox = TTLockSandbox(seed=seed.random_seed)
    sandbox.apply_seed(seed)
    async with sandbox.serve(host, port):
        await asyncio.Event().wait()
