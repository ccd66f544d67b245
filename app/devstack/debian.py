"""Debian packages the dev stack and the tests need (Chromium for the console test, SoftHSM 2 for the HSM tests),
installed with apt-get the first time on a machine."""

from __future__ import annotations

import os
import subprocess


def apt_install(package: str) -> None:
    """Install ``package`` with apt-get, refreshing the package lists once when a fresh machine has none."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", package]
    if subprocess.run(install, capture_output=True, env=env).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True, env=env)
        subprocess.run(install, check=True, capture_output=True, env=env)
