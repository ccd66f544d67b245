"""Fault injection and loopback serving shared by the vendor sandboxes (TTLock, Salto, Generic Wiegand).

Besides faults that fail before the vendor acts, the ambiguous-outcome modes (:data:`AMBIGUOUS_MODES`) apply the call
and then lose its answer: ``executed_then_timeout`` answers after any client has given up, ``executed_then_5xx``
answers 502 from the "load balancer", ``duplicate_delivery`` applies the same request twice. Only these show whether
a retry looks on the lock before acting again.

A sandbox declares which fault modes it can produce and where (a *scope*: which request paths or encoder commands
each mode may hit); :class:`Faults` draws them with a seeded random so a failing run can be replayed. Faults are armed
per test through the admin API (``POST /sandbox/faults``), in-process (``sandbox.faults.set(...)``) or from the
command line (``lis sandbox salto --fault rate_limit:0.2``, parsed by :func:`parse_fault`).
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

Scope = Callable[[str], bool]
AMBIGUOUS_MODES = ("executed_then_timeout", "executed_then_5xx", "duplicate_delivery")
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def everywhere(where: str) -> bool:
    """The scope of a fault that may hit any call."""
    return True


class FaultSeed(BaseModel):
    """One armed fault: ``mode`` hits a share ``rate`` of eligible calls, ``count`` times at most (None: until
    cleared); ``latency_ms`` is the delay of the ``latency`` and ``timeout`` modes; ``retry_after_s`` the Retry-After a
    ``rate_limit`` answers where the vendor sends one; ``only`` narrows the mode to one call of its scope (a request
    path or route, an encoder command), e.g. the step of a multi-call issue."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, alias_generator=to_camel)

    mode: str
    rate: float = Field(default=1.0, ge=0.0, le=1.0)
    count: int | None = Field(default=None, ge=1)
    latency_ms: int | None = Field(default=None, ge=0)
    retry_after_s: int | None = Field(default=None, ge=0)
    only: str | None = None


class Faults:
    """The faults armed in one sandbox, limited to the modes it declares."""

    def __init__(self, modes: Mapping[str, Scope], seed: int = 0) -> None:
        self.modes = dict(modes)
        self.rng = random.Random(seed)
        self.fired: Counter[str] = Counter()
        self._active: dict[str, FaultSeed] = {}
        self._landing: set[asyncio.Task[web.StreamResponse]] = set()  # late executions, kept until they have run

    def set(self, mode: str, *, rate: float = 1.0, count: int | None = None, latency_ms: int | None = None) -> None:
        """Arm ``mode``; ValueError if this sandbox cannot produce it."""
        self.arm(FaultSeed(mode=mode, rate=rate, count=count, latency_ms=latency_ms))

    def arm(self, fault: FaultSeed) -> None:
        """Arm a validated fault (replacing one of the same mode)."""
        if fault.mode not in self.modes:
            raise ValueError(f"unknown fault mode {fault.mode!r}; this sandbox has {', '.join(sorted(self.modes))}")
        self._active[fault.mode] = fault.model_copy()

    def clear(self, mode: str | None = None) -> None:
        """Stop one fault, or all of them."""
        if mode is None:
            self._active.clear()
        else:
            self._active.pop(mode, None)

    def active(self) -> list[dict[str, Any]]:
        """The faults still armed, as the admin API shows them."""
        return [fault.model_dump(by_alias=True) for fault in self._active.values()]

    def draw(self, where: str) -> FaultSeed | None:
        """The fault that hits this call (a path or command name), if any; consumes one of its ``count``."""
        for fault in list(self._active.values()):
            if (not self.modes[fault.mode](where) or (fault.only is not None and fault.only != where)
                    or self.rng.random() >= fault.rate):
                continue
            if fault.count is not None:
                fault.count -= 1
                if fault.count == 0:
                    del self._active[fault.mode]
            self.fired[fault.mode] += 1
            return fault
        return None


    async def serve(self, where: str, execute: Callable[[], Awaitable[web.StreamResponse]],
                    inject: Callable[[FaultSeed], Awaitable[web.StreamResponse | None]]) -> web.StreamResponse:
        """Answer one call of the sandbox's API at ``where`` under the armed faults: an ambiguous mode applies the
        call and loses its answer, ``timeout`` lands it late, any other mode is the sandbox's ``inject`` (its answer
        instead of the call's, or None to go on, e.g. after a delay); no fault: ``execute`` as it is."""
        fault = self.draw(where)
        if fault is None:
            return await execute()
        if fault.mode in AMBIGUOUS_MODES:
            return await answer_ambiguously(fault, execute)
        if fault.mode == "timeout":
            return await self.land_late(fault, execute)
        answer = await inject(fault)
        return answer if answer is not None else await execute()

    async def land_late(self, fault: FaultSeed,
                        execute: Callable[[], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        """The ``timeout`` mode: wait far longer than any client, then execute — even when the client has hung up
        meanwhile (a slow vendor does not know its caller gave up), so the call lands after the client's timeout."""

        async def late() -> web.StreamResponse:
            await delay(fault, 10_000)
            return await execute()

        task = asyncio.ensure_future(late())
        self._landing.add(task)
        task.add_done_callback(self._landing.discard)
        return await asyncio.shield(task)


def parse_fault(spec: str) -> FaultSeed:
    """A command-line fault: ``MODE[:RATE][:count=N][:ms=N]``, e.g. ``rate_limit:0.2`` or ``latency:1:ms=300``."""
    mode, *options = spec.split(":")
    fields: dict[str, Any] = {"mode": mode}
    for option in options:
        name, sep, value = option.partition("=")
        if not sep:
            fields["rate"] = option
        elif name in ("count", "ms"):
            fields["count" if name == "count" else "latency_ms"] = value
        else:
            raise ValueError(f"fault option {name!r} is not count or ms in {spec!r}")
    try:
        return FaultSeed.model_validate(fields)
    except ValidationError as err:
        raise ValueError(f"bad fault {spec!r}: {err.errors()[0]['msg']}") from err


async def delay(fault: FaultSeed, default_ms: int) -> None:
    """Sleep for the fault's latency (``latency``: a slow vendor; ``timeout``: one slower than any client waits)."""
    await asyncio.sleep((fault.latency_ms if fault.latency_ms is not None else default_ms) / 1000)




async def answer_ambiguously(fault: FaultSeed, execute: Callable[[], Awaitable[web.StreamResponse]]
                             ) -> web.StreamResponse:
    """Apply the call with ``execute``, then lose its answer the way ``fault.mode`` says."""
    answer = await execute()
    if fault.mode == "duplicate_delivery":
        await execute()  # a proxy that retried the request on its own
        return answer
    if fault.mode == "executed_then_5xx":
        return web.Response(status=502, text="502 from the load balancer")
    await delay(fault, 10_000)  # executed_then_timeout: applied, answered after any client has given up
    return answer


def add_fault_routes(app: web.Application, faults: Faults) -> None:
    """``GET``/``POST``/``DELETE /sandbox/faults`` on a sandbox's admin API, the body as :class:`FaultSeed`."""

    async def arm(request: web.Request) -> web.Response:
        try:
            faults.arm(FaultSeed.model_validate_json(await request.read()))
        except (ValidationError, ValueError) as err:
            return web.json_response({"error": str(err)}, status=400)
        return web.json_response(faults.active(), status=201)

    async def listed(request: web.Request) -> web.Response:
        return web.json_response(faults.active())

    async def cleared(request: web.Request) -> web.Response:
        faults.clear(request.query.get("mode"))
        return web.json_response(faults.active())

    app.router.add_post("/sandbox/faults", arm)
    app.router.add_get("/sandbox/faults", listed)
    app.router.add_delete("/sandbox/faults", cleared)


@asynccontextmanager
async def serve_loopback(app: web.Application, host: str, port: int, *, what: str) -> AsyncIterator[str]:
    """Serve ``app`` on loopback (port 0: a free port); yields the base URL, e.g. ``http://127.0.0.1:41234``."""
    if host not in LOOPBACK:
        raise ValueError(f"the {what} has an unauthenticated admin API: loopback only, not {host!r}")
    # A short shutdown timeout: requests held by the ``timeout`` fault must not delay the end of a test.
    runner = web.AppRunner(app, shutdown_timeout=0.2)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        bound_host, bound_port = runner.addresses[0][:2]
        yield f"http://[{bound_host}]:{bound_port}" if ":" in bound_host else f"http://{bound_host}:{bound_port}"
    finally:
        await runner.cleanup()
