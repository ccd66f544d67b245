"""Debian's Chromium for the console's browser test (driven by Playwright through ``executable_path``: Playwright's
own browser download cannot work on these machines, docs/OPS_API.md). Installed with apt-get when missing."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

PACKAGE = "chromium"


def chromium_bin() -> Path:
    """The ``chromium`` executable, installing Debian's package the first time on a machine."""
    found = shutil.which("chromium")
    if found is None:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-q", PACKAGE]
        if subprocess.run(install, capture_output=True, env=env).returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True, env=env)  # a fresh machine
            subprocess.run(install, check=True, capture_output=True, env=env)
        found = shutil.which("chromium")
    if found is None:
        raise FileNotFoundError("apt-get installed chromium but it is not on PATH")
    return Path(found)


if __name__ == "__main__":
    print(chromium_bin())
