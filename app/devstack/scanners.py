"""The secret scanner CI runs (``make lint``): gitleaks, built from the Go module proxy at the pinned version into the
project's cache, once per machine (docs/security/SCANS.md)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from app.infra.ports import cache_dir, cached_install

GITLEAKS = "github.com/zricethezav/gitleaks/v8@v8.30.1"


def gitleaks_bin() -> Path:
    """The ``gitleaks`` command, built with ``go install`` the first time (about 40 s)."""
    root = cached_install(cache_dir() / "go" / GITLEAKS.rsplit("/", 1)[-1].replace("@", "-"), _go_install)
    return root / "bin" / "gitleaks"


def _go_install(root: Path) -> None:
    env = {**os.environ, "GOBIN": str(root / "bin"), "GOPATH": str(cache_dir() / "go" / "path"),
           "GOFLAGS": "-mod=mod"}
    subprocess.run(["go", "install", GITLEAKS], check=True, capture_output=True, env=env)


if __name__ == "__main__":
    print(gitleaks_bin())
