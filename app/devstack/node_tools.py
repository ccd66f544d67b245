"""Node tools the checks use (Redocly's OpenAPI linter), installed from npm into the project's cache, once per machine,
at the versions pinned here."""

from __future__ import annotations

import subprocess
from pathlib import Path

from app.infra.ports import cache_dir

REDOCLY = "@redocly/cli@2.77.0"


def redocly_bin() -> Path:
    """The ``redocly`` command, installing the pinned package the first time."""
    root = cache_dir() / "node" / REDOCLY.replace("/", "_").replace("@", "")
    marker = root / ".complete"
    if not marker.exists():
        root.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent", "--prefix", str(root), REDOCLY],
                       check=True, capture_output=True)
        marker.touch()
    return root / "node_modules" / ".bin" / "redocly"


if __name__ == "__main__":
    print(redocly_bin())
