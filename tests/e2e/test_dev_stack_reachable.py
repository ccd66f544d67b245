"""From a second shell with no settings at all, the other lis commands reach a running ``lis dev --keep`` stack."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]
NOTICE = "lis: using the lis dev stack"


def clean_env(state: Path) -> dict[str, str]:
    """A shell with none of the service's settings: only where the dev stack's state file lives."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("LIS_") and name not in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL")}
    return {**env, "LIS_DEV_STATE": str(state), "COLUMNS": "200"}


def lis(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], env=env, capture_output=True, text=True, timeout=180)


def wait_for(path: Path, text: str, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if text in path.read_text(errors="replace"):
            return
        assert process.poll() is None, f"lis dev ended early: {path.read_text(errors='replace')[-2000:]}"
        time.sleep(0.5)
    raise AssertionError(f"no {text!r} from lis dev within {timeout_s} s: {path.read_text(errors='replace')[-2000:]}")


def test_dlq_audit_and_master_key_commands_reach_a_kept_dev_stack_without_any_setting(tmp_path: Path) -> None:
    state, output = tmp_path / "dev-stack.json", tmp_path / "dev.out"
    env = clean_env(state)
    with output.open("wb") as out:
        dev = subprocess.Popen([sys.executable, "-m", "app", "dev", "--keep", "--reservations", "10", "--seconds",
                                "5"], env=env, stdout=out, stderr=subprocess.STDOUT)
    kept: Path | None = None
    try:
        wait_for(output, "the dev stack keeps running", dev, timeout_s=300)
        assert json.loads(state.read_text())["pid"] == dev.pid
        kept = Path(json.loads(state.read_text())["root"])  # --keep keeps its logs and data: this test removes them
        terminal = output.read_text()
        noise = [line for line in terminal.splitlines()
                 if re.search(r"Traceback|Warning|WARNING|ERROR|retrying|Unclosed", line)]
        assert not noise, f"lis dev's terminal shows library noise: {noise[:5]}"
        assert "SLIs from Prometheus (http://127.0.0.1:" in output.read_text(), "the day's SLIs, read back"
        assert "synthetic checks: ttlock in eu-west passing" in output.read_text(), "the canary on the test lock"

        exports = lis(env, "dev", "env")
        assert exports.returncode == 0, exports.stderr
        assert "export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:" in exports.stdout
        assert "export DATABASE_URL=" in exports.stdout

        letters = lis(env, "dlq", "list")
        assert letters.returncode == 0, letters.stderr
        assert NOTICE in letters.stderr

        shift = lis(env, "master-key", "shift", "--tenant", "demo-hotels", "--property", "berlin-mitte",
                    "--timeout", "120")
        assert shift.returncode in (0, 2), shift.stderr  # 2: completed with stragglers (none are expected here)
        assert NOTICE in shift.stderr
        assert "completed" in shift.stdout, shift.stdout

        printed = output.read_text()
        ops_url = re.search(r"ops API: (http://127\.0\.0\.1:\d+/ops/)", printed).group(1)  # type: ignore[union-attr]
        admin = re.search(r"eyJ[\w-]+\.[\w-]+\.[\w-]+", printed).group(0)  # type: ignore[union-attr]
        issued = lis(env, "ops", "token", "issue", "--role", "read-only", "--tenant", "demo-hotels")
        assert issued.returncode == 0, issued.stderr
        for token in (admin, issued.stdout.strip()):  # the printed token, and one made from the second shell
            answer = httpx.get(f"{ops_url}properties", params={"key": "demo-hotels/berlin-mitte"}, timeout=60,
                               headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 200, answer.text
            assert answer.json()["lock_count"] > 100
        assert httpx.get(f"{ops_url}console").status_code == 200

        verified = lis(env, "audit", "verify", "--tenant", "demo-hotels")
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert NOTICE in verified.stderr
    finally:
        dev.send_signal(signal.SIGINT)
        dev.wait(timeout=120)
        if kept is not None:
            shutil.rmtree(kept, ignore_errors=True)
    assert not state.exists(), "the state file goes with the stack"
    gone = lis(env, "dev", "env")
    assert gone.returncode == 1
    assert "no lis dev stack is running" in gone.stderr
