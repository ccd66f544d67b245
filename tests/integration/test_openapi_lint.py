"""Every OpenAPI spec of the project passes Redocly's recommended lint (redocly.yaml), with no error and no warning
beyond the ones .redocly.lint-ignore.yaml names; and the linter does fail a broken spec."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from app.devstack.node_tools import redocly_bin

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted(ROOT.glob("docs/**/openapi*.yaml"))


def lint(spec: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(redocly_bin()), "lint", str(spec.relative_to(ROOT) if spec.is_relative_to(ROOT)
                                                             else spec), "--format=stylish"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "REDOCLY_TELEMETRY": "off", "NO_COLOR": "1"})


def test_every_spec_lints_clean() -> None:
    assert SPECS, "no OpenAPI spec found"
    for spec in SPECS:
        result = lint(spec)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "warning  " not in result.stdout, result.stdout


def test_the_linter_fails_a_broken_spec(tmp_path: Path) -> None:
    broken = tmp_path / "openapi.yaml"
    broken.write_text("openapi: 3.1.0\ninfo: {title: x}\npaths:\n  /a:\n    get:\n      responses: {}\n")
    result = lint(broken)
    assert result.returncode != 0, result.stdout
