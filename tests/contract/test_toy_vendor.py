"""A vendor is one folder: the toy vendor of ``tests/toy_vendor`` (client, sandbox, spec, harness) passes the whole
LockPort contract suite, added for the run by one line (``LIS_CONTRACT_HARNESSES``) and no other file; its webhooks
go through the ingress in ``tests/integration/test_toy_vendor_ingress.py``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from adapters.registry import SPECS, Registry
from tests.toy_vendor.client import ToyClient
from tests.toy_vendor.spec import SPEC

ROOT = Path(__file__).resolve().parents[2]
SUITE = ["tests/contract/test_lock_port_contract.py", "tests/contract/test_lock_port_faults.py",
         "tests/contract/test_lock_port_offline.py"]


def test_the_toy_vendor_passes_the_lock_port_contract_suite() -> None:
    env = {**os.environ, "LIS_CONTRACT_HARNESSES": "tests.toy_vendor.harness:TOY", "LIS_CONTRACT_VENDORS": "toy"}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", *SUITE],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-4000:]
    passed = int(re.search(r"(\d+) passed", done.stdout).group(1))  # type: ignore[union-attr]
    assert passed >= 30, done.stdout[-2000:]
    assert "failed" not in done.stdout
    # Every skip is a capability the toy vendor honestly lacks, as the suite words it.
    skips = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
    assert skips
    assert all(re.search(r"toy (lacks|has no)", line) for line in skips), skips


def test_one_registry_line_builds_its_adapter_from_its_account_configuration() -> None:
    registry = Registry((*SPECS, SPEC))
    assert registry.names[-1] == "toy"
    assert isinstance(registry.spec("toy").port({"base_url": "http://127.0.0.1:9"}, b""), ToyClient)


def test_no_file_outside_the_toy_folder_and_its_two_tests_names_the_toy_vendor() -> None:
    allowed = {Path("tests/contract/test_toy_vendor.py"), Path("tests/integration/test_toy_vendor_ingress.py")}
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    named = re.compile(r"toy_vendor|[\"']toy[\"']")  # its folder, or its name as a string anywhere in the code
    naming = [path for path in map(Path, tracked.splitlines())
              if path.suffix in (".py", ".toml", ".yaml", ".cfg", ".sql") and path.parts[:2] != ("tests", "toy_vendor")
              and path not in allowed and named.search((ROOT / path).read_text(errors="replace"))]
    assert naming == []
