"""Where a running ``lis dev`` stack can be reached: a small JSON file every other command reads when no service is
configured, so ``lis dlq list`` or ``lis audit verify`` in a second shell talk to the dev stack without any setup.

The file is written by ``lis dev`` once its services are up and removed when it stops; a file whose process is gone
is ignored. Its place: ``$LIS_DEV_STATE``, else ``$XDG_STATE_HOME/lis/dev-stack.json``, else
``~/.local/state/lis/dev-stack.json``. It holds endpoints and file paths, never a secret beyond what the dev stack's
own environment carries (its throw-away database password).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

# The settings a command takes from the dev stack when they are not in its environment.
REACHABLE = ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "LIS_ADMIN_DATABASE_URL", "LIS_MASTER_KEY_FILE",
             "LIS_DATA_DIR", "LIS_OPS_JWKS")


@dataclass(frozen=True)
class DevStack:
    pid: int
    root: Path  # its logs and data
    env: dict[str, str]  # a subset of REACHABLE
    urls: dict[str, str]  # the sandboxes', for people


def state_file(environ: os._Environ[str] | dict[str, str] | None = None) -> Path:
    source = os.environ if environ is None else environ
    if source.get("LIS_DEV_STATE"):
        return Path(source["LIS_DEV_STATE"])
    base = Path(source["XDG_STATE_HOME"]) if source.get("XDG_STATE_HOME") else Path.home() / ".local" / "state"
    return base / "lis" / "dev-stack.json"


def write_state(stack: DevStack, path: Path | None = None) -> Path:
    path = path or state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"pid": stack.pid, "root": str(stack.root), "env": stack.env, "urls": stack.urls}
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(payload, indent=2))
    temporary.chmod(0o600)
    temporary.replace(path)
    return path


def remove_state(pid: int, path: Path | None = None) -> None:
    """Remove the file if it is still this process's (a second ``lis dev`` may have taken the place)."""
    path = path or state_file()
    current = read_state(path, check_alive=False)
    if current is not None and current.pid == pid:
        path.unlink(missing_ok=True)


def read_state(path: Path | None = None, *, check_alive: bool = True) -> DevStack | None:
    """The running dev stack, or None (no file, an unreadable one, or its process is gone)."""
    path = path or state_file()
    try:
        raw = json.loads(path.read_text())
        stack = DevStack(pid=int(raw["pid"]), root=Path(raw["root"]),
                         env={k: str(v) for k, v in raw["env"].items() if k in REACHABLE},
                         urls={k: str(v) for k, v in raw.get("urls", {}).items()})
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if check_alive and not _alive(stack.pid):
        return None
    return stack


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
