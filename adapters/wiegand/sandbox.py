"""A Generic Wiegand encoder simulator: encoders on pseudo-terminals speaking the line protocol of
:mod:`adapters.wiegand.frames`, and a JSON admin API on 127.0.0.1 for set-up, fault injection and inspection.

It is the honest fake of the Wiegand adapter: the adapter opens the simulated encoder's path with pyserial-asyncio-fast
exactly as it would open ``/dev/ttyUSB0``. Faults are per command (``sandbox.faults.set("no_card", count=1)``, the
admin API, or ``lis sandbox wiegand --fault framing:0.1``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp import web

from adapters.sandbox_faults import Faults, FaultSeed, add_fault_routes, delay, serve_loopback
from adapters.sandbox_journal import add_journal_route
from adapters.wiegand.frames import ChecksumError, Frame, FrameError, PlainRead, encode_frame, parse_line
from adapters.wiegand.sandbox_pty import PtyPort
from adapters.wiegand.sandbox_state import FAULT_MODES, EncoderRefusal, EncoderSite

_FAULT_REFUSALS = {
    "gateway_busy": ("BSY", "writing another card"),
    "no_card": ("NC", "no card on the encoder"),
    "duplicate": ("DUP", "card is live"),
    "checksum": ("CK", "checksum error in the received frame"),
    "framing": ("FR", "framing error in the received frame"),
}


class WiegandSandbox:
    """A site with encoders on ptys at ``link_dir/<encoder>``, its zones, journal and blocklist."""

    def __init__(
        self, *, encoders: list[str], zones: list[str], link_dir: Path, seed: int = 0, write_latency_s: float = 0.005
    ) -> None:
        self.site = EncoderSite(frozenset(zones), write_latency_s=write_latency_s)
        self.faults = Faults(FAULT_MODES, seed)
        self.ports = {name: PtyPort(link_dir / name, functools.partial(self._received, name)) for name in encoders}
        self._tasks: set[asyncio.Task[None]] = set()

    def port_of(self, encoder: str) -> str:
        """The serial port path the adapter opens for ``encoder``."""
        return str(self.ports[encoder].path)

    def set_plugged(self, encoder: str, plugged: bool) -> None:
        """Plug an encoder in or pull it out."""
        port = self.ports[encoder]
        port.plug() if plugged else port.unplug()

    def emit(self, encoder: str, line: bytes) -> None:
        """Send an event line to the host, as when a card is read at the encoder or placed on it."""
        self.ports[encoder].send(line)

    def stats(self) -> dict[str, Any]:
        """Commands received, cards written, faults fired and busy refusals."""
        return {
            "calls": dict(self.site.calls),
            "cardsWritten": len(self.site.cards),
            "faultsFired": dict(self.faults.fired),
            "gatewayBusyRejections": self.site.busy_rejections,
        }

    def _received(self, encoder: str, line: bytes) -> None:
        task = asyncio.get_running_loop().create_task(self._answer(encoder, line))
        self._tasks.add(task)  # kept so the task is not collected mid-flight, and cancelled at the end
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, encoder: str, line: bytes) -> None:
        port = self.ports[encoder]
        try:
            parsed = parse_line(line)
        except FrameError as err:
            code = "CK" if isinstance(err, ChecksumError) else "FR"
            port.send(encode_frame("ER", "0", code, type(err).__name__))
            return
        if isinstance(parsed, PlainRead) or parsed.name in ("OK", "ER", "EV"):
            return  # not a command
        reply = await self._execute(encoder, parsed)
        if reply is not None:
            port.send(reply)

    async def _execute(self, encoder: str, command: Frame) -> bytes | None:
        """The reply line to a command, faults applied; None when the fault swallows the reply."""
        seq = str(command.seq)
        fault = self.faults.draw(command.name)
        if fault is not None and fault.mode in ("latency", "timeout"):
            # ``timeout``: the encoder hangs, then executes; the host has long given up waiting.
            await delay(fault, 200 if fault.mode == "latency" else 10_000)
        elif fault is not None and fault.mode == "gateway_offline":
            port = self.ports[encoder]
            port.unplug()  # a USB glitch: the port breaks under the adapter and comes back at the same path
            port.plug()
            return None
        elif fault is not None and fault.mode in _FAULT_REFUSALS:
            code, text = _FAULT_REFUSALS[fault.mode]
            return encode_frame("ER", seq, code, text)
        try:
            fields = await self.site.handle(encoder, command.name, command.fields[2:])
        except EncoderRefusal as err:
            return encode_frame("ER", seq, err.code, err.text)
        if fault is not None and fault.mode == "duplicate_delivery":
            with contextlib.suppress(EncoderRefusal):  # the host's line echoed twice; the first answer goes back
                await self.site.handle(encoder, command.name, command.fields[2:])
        if fault is not None and fault.mode == "executed_then_timeout":
            return None  # written, and the confirmation never comes back
        reply = encode_frame("OK", seq, command.name, *fields)
        if fault is not None and fault.mode == "malformed":
            # Line noise on the way back: the command was executed, its confirmation arrives garbled.
            return reply[:-3] + (b"00" if reply[-3:-1] != b"00" else b"FF") + reply[-1:]
        return reply

    # -- the admin API: JSON under /sandbox/ -------------------------------------------------------------------------

    def create_app(self) -> web.Application:
        """The admin API: encoders, zones' cards, event lines, faults, stats and the journal."""
        app = web.Application()
        app.router.add_get("/sandbox/encoders", self._encoders)
        app.router.add_post("/sandbox/encoders", self._plug)
        app.router.add_post("/sandbox/encoders/{encoder}/lines", self._line)
        app.router.add_get("/sandbox/zones/{zone}/cards", self._cards)
        app.router.add_get("/sandbox/stats", self._stats)
        add_fault_routes(app, self.faults)
        add_journal_route(app, self.site.journal)
        return app

    async def _encoders(self, request: web.Request) -> web.Response:
        return web.json_response(
            [{"encoderId": name, "port": str(port.path), "plugged": port.plugged} for name, port in self.ports.items()]
        )

    async def _plug(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("encoderId") not in self.ports:
            raise web.HTTPNotFound(text=f"no encoder {body.get('encoderId')!r}")
        self.set_plugged(body["encoderId"], bool(body.get("plugged", True)))
        return web.json_response(body, status=201)

    async def _line(self, request: web.Request) -> web.Response:
        encoder, body = request.match_info["encoder"], await request.json()
        if encoder not in self.ports:
            raise web.HTTPNotFound(text=f"no encoder {encoder!r}")
        self.emit(encoder, str(body["line"]).encode("ascii") + b"\r")
        return web.json_response(body, status=201)

    async def _cards(self, request: web.Request) -> web.Response:
        zone = request.match_info["zone"]
        if zone not in self.site.zones:
            raise web.HTTPNotFound(text=f"no zone {zone!r}")
        return web.json_response([card.view() for card in self.site.cards if zone in card.zones])

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats())

    @asynccontextmanager
    async def running(self, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
        """Plug every encoder in and serve the admin API on loopback; yields its base URL."""
        for encoder in self.ports.values():
            encoder.plug()
        try:
            async with serve_loopback(self.create_app(), host, port, what="Wiegand simulator") as url:
                yield url
        finally:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            for encoder in self.ports.values():
                encoder.unplug()


async def run_sandbox(
    host: str, port: int, *, encoders: list[str], zones: list[str], link_dir: Path, faults: list[FaultSeed]
) -> None:
    """Run the simulator until cancelled (``lis sandbox wiegand``), printing each encoder's serial port."""
    await asyncio.to_thread(link_dir.mkdir, parents=True, exist_ok=True)
    sandbox = WiegandSandbox(encoders=encoders, zones=zones, link_dir=link_dir)
    for fault in faults:
        sandbox.faults.arm(fault)
    async with sandbox.running(host, port) as url:
        for name in encoders:
            print(f"encoder {name}: {sandbox.port_of(name)}", flush=True)
        print(f"admin API: {url}/sandbox/", flush=True)
        await asyncio.Event().wait()
