"""Debian's Chromium for the console's browser test (driven by Playwright through ``executable_path``: Playwright's
own browser download cannot work on these machines, docs/OPS_API.md). Installed with apt-get when missing."""

from __future__ import annotations

import shutil
from pathlib import Path

from app.devstack.debian import apt_install

PACKAGE = "chromium"


def chromium_bin() -> Path:
    """The ``chromium`` executable, installing Debian's package the first time on a machine."""
    found = shutil.which("chromium")
    if found is None:
        apt_install(PACKAGE)
        found = shutil.which("chromium")
    if found is None:
        raise FileNotFoundError("apt-get installed chromium but it is not on PATH")
    return Path(found)


if __name__ == "__main__":
    print(chromium_bin())
