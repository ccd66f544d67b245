"""A TCP fault proxy for chaos tests: sits between a client and a server on 127.0.0.1 and, on command, adds latency,
refuses connections, resets them mid-stream, or swallows traffic (a black hole that ends in client timeouts) — in
both directions, or only on the way back, after the request reached the server (the ambiguous outcomes: the vendor
acted and the client cannot know).

It is the project's own stand-in for Toxiproxy on the network path from the worker to a vendor (or any TCP peer):
the real client and server code run unchanged on both sides.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass, field
from enum import StrEnum


class Fault(StrEnum):
    NONE = "none"
    LATENCY = "latency"  # every chunk waits ``latency_s`` in each direction
    RESET = "reset"  # new connections are closed at once, open ones are cut
    BLACKHOLE = "blackhole"  # bytes are read and dropped: the client waits until its own timeout
    ANSWER_LOST = "answer_lost"  # requests reach the server, its answers are dropped: applied, then a timeout
    RESET_ON_ANSWER = "reset_on_answer"  # requests reach the server, the connection is cut when it answers


@dataclass
class FaultProxy:
    target_port: int = 0
    target_host: str = "127.0.0.1"
    fault: Fault = Fault.NONE
    latency_s: float = 0.0
    rate: float = 1.0  # the share of answers an answer fault hits (each answer drawn on its own)
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    _server: asyncio.Server | None = None
    _pipes: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> int:
        """Listen on a free port of 127.0.0.1; returns it."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    def set(self, fault: Fault, *, latency_s: float = 0.0, rate: float = 1.0) -> None:
        """Switch the fault; RESET also cuts every open connection."""
        self.fault, self.latency_s, self.rate = fault, latency_s, rate
        if fault is Fault.RESET:
            for pipe in list(self._pipes):
                pipe.cancel()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for pipe in list(self._pipes):
            pipe.cancel()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.fault is Fault.RESET:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            writer.transport.abort()
            return
        task = asyncio.current_task()
        assert task is not None
        self._pipes.add(task)
        try:
            await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer, answers=True))
        except (asyncio.CancelledError, ConnectionError):
            pass
        finally:
            self._pipes.discard(task)
            for side in (writer, up_writer):
                side.transport.abort()

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, *, answers: bool = False) -> None:
        while chunk := await source.read(65536):
            hit = answers and self.rng.random() < self.rate
            if self.fault is Fault.BLACKHOLE or (hit and self.fault is Fault.ANSWER_LOST):
                continue
            if hit and self.fault is Fault.RESET_ON_ANSWER:
                sink.transport.abort()
                return
            if self.fault is Fault.LATENCY:
                await asyncio.sleep(self.latency_s)
            sink.write(chunk)
            with contextlib.suppress(ConnectionError):
                await sink.drain()
