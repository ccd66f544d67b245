"""Node tools the checks use (Redocly's OpenAPI linter), installed from npm into the project's cache, once per machine,
at the versions pinned here."""

from __future__ import annotations

import subprocess
from pathlib import Path

from app.infra.ports import cache_dir, cached_install

REDOCLY = "@redocly/cli@2.77.0"


def redocly_bin() -> Path:
    """The ``redocly`` command, installing the pinned package the first time."""
    root = cached_install(cache_dir() / "node" / REDOCLY.replace("/", "_").replace("@", ""), _npm_install)
    return root / "node_modules" / ".bin" / "redocly"


def _npm_install(root: Path) -> None:
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent", "--prefix", str(root), REDOCLY],
                   check=True, capture_output=True)


if __name__ == "__main__":
    print(redocly_bin())
