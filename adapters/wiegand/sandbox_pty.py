"""A simulated encoder's serial port: a pseudo-terminal pair behind a stable path, so the adapter's real serial code
(pyserial-asyncio-fast) runs against it. Unplugging closes the pair and removes the path; plugging in again makes a new
pair at the same path, as udev's ``/dev/serial/by-id/…`` links do for a real USB encoder."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tty
from collections.abc import Callable
from pathlib import Path

from adapters.wiegand.frames import EOL, MAX_LINE


class PtyPort:
    """The encoder's end of a pty pair; ``path`` is what the adapter opens."""

    def __init__(self, path: Path, on_line: Callable[[bytes], None]) -> None:
        self.path = path
        self._on_line = on_line
        self._fds: tuple[int, int] | None = None  # (master, slave)
        self._buffer = b""

    @property
    def plugged(self) -> bool:
        return self._fds is not None

    def plug(self) -> None:
        """Create a pty pair in raw mode (no echo, no line editing) and point ``path`` at its terminal."""
        if self._fds is not None:
            return
        master, slave = os.openpty()
        tty.setraw(slave)  # the adapter's pyserial sets raw mode too; until it opens, nothing may echo
        os.set_blocking(master, False)
        self._fds = (master, slave)  # the slave stays open here so the master never reads EIO between adapters
        self._buffer = b""
        staging = self.path.with_name(self.path.name + ".new")
        staging.unlink(missing_ok=True)
        staging.symlink_to(os.ttyname(slave))
        staging.replace(self.path)
        asyncio.get_running_loop().add_reader(master, self._readable)

    def unplug(self) -> None:
        """Close the pair: the adapter's open port breaks, and ``path`` is gone until :meth:`plug`."""
        if self._fds is None:
            return
        master, slave = self._fds
        self._fds = None
        asyncio.get_running_loop().remove_reader(master)
        os.close(master)
        os.close(slave)
        self.path.unlink(missing_ok=True)

    def send(self, data: bytes) -> None:
        """Write to the adapter; lost, like on a real wire, when unplugged."""
        if self._fds is not None:
            with contextlib.suppress(BlockingIOError):  # a full pty buffer drops the line, as an overrun would
                os.write(self._fds[0], data)

    def _readable(self) -> None:
        if self._fds is None:
            return
        try:
            chunk = os.read(self._fds[0], 4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # EIO: nobody holds the terminal end
            return
        self._buffer += chunk
        while EOL in self._buffer:
            line, _, self._buffer = self._buffer.partition(EOL)
            self._on_line(line + EOL)
        if len(self._buffer) > MAX_LINE:  # noise without an end of line: drop it, as the encoder's UART would
            self._buffer = b""
