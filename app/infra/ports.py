"""Small helpers shared by the launchers."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """``count`` different free TCP ports on 127.0.0.1: all held open while they are chosen, so two calls of
    :func:`free_port` in a row cannot hand the same port to two servers."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def wait_for_port(port: int, timeout_s: float, *, what: str, alive: Callable[[], bool] = lambda: True) -> None:
    """Block until 127.0.0.1:port accepts connections, or raise TimeoutError naming ``what`` (at once when
    ``alive()`` says the server has exited)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and alive():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    state = "within" if alive() else "(it exited) within"
    raise TimeoutError(f"{what} did not listen on 127.0.0.1:{port} {state} {timeout_s:.0f}s")


def cache_dir() -> Path:
    """Where downloaded artefacts (Kafka jars) are kept between runs; never required to exist."""
    root = Path(os.environ.get("LIS_CACHE_DIR", Path.home() / ".cache" / "lis"))
    root.mkdir(parents=True, exist_ok=True)
    return root


def cached_install(folder: Path, install: Callable[[Path], None]) -> Path:
    """``folder`` under the cache, running ``install(folder)`` first unless an earlier run completed it (the
    ``.complete`` marker is written only after ``install`` returns, so an interrupted download is redone)."""
    if not (folder / ".complete").exists():
        folder.mkdir(parents=True, exist_ok=True)
        install(folder)
        (folder / ".complete").touch()
    return folder
