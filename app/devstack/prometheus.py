"""Prometheus' ``promtool`` (and server) for the rule tests: Debian's build, unpacked into the project's cache.

``apt-get download`` fetches the package without installing it (an install would start a daemon on 0.0.0.0:9090);
``dpkg-deb -x`` unpacks it under ``~/.cache/lis``, once per machine, like Kafka's jars. Debian's is Prometheus 2.42:
a 3.x build from the Go module proxy takes about 15 minutes on these machines (docs/OBSERVABILITY.md).
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from app.infra.ports import cache_dir

PACKAGE = "prometheus=2.42.0+ds-5+deb12u1"


def prometheus_bin(name: str = "promtool") -> Path:
    """The path of ``promtool`` or ``prometheus``, fetching the package the first time."""
    root = cache_dir() / "prometheus-2.42.0"
    marker = root / ".complete"
    if not marker.exists():
        with tempfile.TemporaryDirectory() as work:
            if subprocess.run(["apt-get", "download", PACKAGE], cwd=work, capture_output=True).returncode != 0:
                subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True)  # a fresh machine
                subprocess.run(["apt-get", "download", PACKAGE], cwd=work, check=True, capture_output=True)
            [deb] = Path(work).glob("prometheus_*.deb")
            subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
        marker.touch()
    return root / "usr" / "bin" / name


if __name__ == "__main__":
    print(prometheus_bin())
