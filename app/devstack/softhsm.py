"""SoftHSM 2 as the dev stack's and the tests' HSM: Debian's package, and a token of its own in a private folder."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from app.devstack.debian import apt_install
from app.security.pkcs11_keys import SOFTHSM_LIBRARY


def softhsm_library() -> Path:
    """The SoftHSM 2 PKCS#11 library, installing Debian's ``softhsm2`` the first time on a machine."""
    if not Path(SOFTHSM_LIBRARY).exists() or shutil.which("softhsm2-util") is None:
        apt_install("softhsm2")
    return Path(SOFTHSM_LIBRARY)


def init_token(folder: Path, label: str, pin: str) -> Path:
    """A fresh token ``label`` in ``folder``; the ``SOFTHSM2_CONF`` file that points at it (set it in the environment
    before the library is first loaded in a process)."""
    softhsm_library()
    (folder / "tokens").mkdir(parents=True, exist_ok=True, mode=0o700)
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", label, "--so-pin", os.urandom(8).hex(),
                    "--pin", pin], check=True, capture_output=True, env={**os.environ, "SOFTHSM2_CONF": str(conf)})
    return conf


if __name__ == "__main__":
    print(softhsm_library())
