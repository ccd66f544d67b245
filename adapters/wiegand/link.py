"""One card encoder on a serial port: framed commands out, replies matched by sequence number, events aside.

The port is opened on first use and reopened after it broke, so unplugging and replugging the encoder costs the
calls in flight (VendorUnavailable) and nothing more. Commands are not queued here: an encoder busy writing one card
refuses the next with ``BSY``, which surfaces as GatewayBusy like every other vendor's busy gateway.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
from collections.abc import Callable

import serial_asyncio_fast as serial_asyncio

from adapters.wiegand import errors
from adapters.wiegand.frames import EOL, MAX_LINE, Frame, FrameError, PlainRead, encode_frame, parse_line
from app.domain.errors import LockError

log = logging.getLogger(__name__)
_SEQ_LIMIT = 9999  # sequence numbers wrap so frames stay short


class EncoderLink:
    """The serial link to one encoder (9600 baud 8N1)."""

    def __init__(
        self,
        port: str,
        *,
        timeout_s: float,
        baudrate: int = 9600,
        on_event: Callable[[Frame | PlainRead], None] | None = None,
    ) -> None:
        self.port = port
        self._timeout_s = timeout_s
        self._baudrate = baudrate
        self._on_event = on_event
        self._seq = itertools.cycle(range(1, _SEQ_LIMIT + 1))
        self._pending: dict[int, asyncio.Future[Frame]] = {}
        self._writer: asyncio.StreamWriter | None = None
        self._reading: asyncio.Task[None] | None = None
        self._open_lock = asyncio.Lock()

    async def exchange(self, command: str, *args: str) -> tuple[str, ...]:
        """Send one command; the reply's fields after ``OK|seq|<cmd>``, or the canonical error."""
        writer = await self._open()
        seq = next(self._seq)
        answer: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
        self._pending[seq] = answer
        try:
            writer.write(encode_frame(command, str(seq), *args))
            await writer.drain()
            reply = await asyncio.wait_for(answer, self._timeout_s)
        except TimeoutError as err:
            raise errors.no_answer(self.port, self._timeout_s) from err
        except OSError as err:  # pyserial's SerialException is an OSError
            self._broken(err)
            raise errors.unplugged(self.port, err) from err
        finally:
            self._pending.pop(seq, None)
        if reply.name == "ER":
            code, text = (*reply.fields[2:], "", "")[:2]
            raise errors.translate(code, text) from errors.EncoderAnswer(code, text)
        if reply.name != "OK" or reply.fields[2:3] != (command,):
            raise errors.corrupt(self.port, f"{reply.fields[:3]} answers {command}")
        return reply.fields[3:]

    async def aclose(self) -> None:
        """Close the port."""
        reading, self._reading = self._reading, None
        self._broken(ConnectionAbortedError("link closed"))
        if reading is not None:
            reading.cancel()
            await asyncio.gather(reading, return_exceptions=True)

    async def _open(self) -> asyncio.StreamWriter:
        async with self._open_lock:
            if self._writer is not None:
                return self._writer
            reader: asyncio.StreamReader
            writer: asyncio.StreamWriter
            try:
                reader, writer = await serial_asyncio.open_serial_connection(
                    url=self.port, baudrate=self._baudrate, bytesize=8, parity="N", stopbits=1, limit=MAX_LINE * 4
                )
            except (OSError, ValueError) as err:
                raise errors.unplugged(self.port, err) from err
            self._writer = writer
            self._reading = asyncio.create_task(self._read(reader, writer), name=f"encoder {self.port}")
            return writer

    async def _read(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Dispatch every line: replies to their waiting command, events to ``on_event``; stop when the port breaks."""
        try:
            while True:
                line = await reader.readuntil(EOL)
                try:
                    parsed = parse_line(line)
                except FrameError as err:
                    # A corrupt reply cannot be matched to its command: every command in flight lost its answer.
                    self._fail_pending(functools.partial(errors.corrupt, self.port, str(err)), err)
                    continue
                if isinstance(parsed, Frame) and parsed.seq in self._pending:
                    if not self._pending[parsed.seq].done():
                        self._pending[parsed.seq].set_result(parsed)
                elif self._on_event is not None and (isinstance(parsed, PlainRead) or parsed.name == "EV"):
                    self._on_event(parsed)
                else:
                    log.debug("encoder on %s: late or unsolicited %s", self.port, parsed)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as err:  # SerialException is OSError
            if self._writer is writer:
                self._broken(err)

    def _broken(self, err: BaseException) -> None:
        """Forget the port (the next command reopens it) and fail what waited on it."""
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
        self._fail_pending(functools.partial(errors.unplugged, self.port, err), err)

    def _fail_pending(self, error: Callable[[], LockError], cause: BaseException) -> None:
        for waiting in self._pending.values():
            if not waiting.done():
                failure = error()
                failure.__cause__ = cause
                waiting.set_exception(failure)
