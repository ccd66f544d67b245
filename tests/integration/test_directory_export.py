"""``lis directory export`` writes a tenant's directory back from a real PostgreSQL: valid for ``lis directory
validate``, every secret as a reference and never in clear, and loading it again gives the same accounts."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

from adapters.postgres.pool import create_pool
from adapters.postgres.vendor_accounts import load_vendor_account
from app.devstack.stack import Stack
from app.directory_file import check_file
from app.directory_load import load_directory

pytestmark = [pytest.mark.postgres]
CLIENT_SECRET, PASSWORD = f"cs-{uuid.uuid4().hex}", f"pw-{uuid.uuid4().hex}"


def directory(tenant: str) -> list[dict[str, object]]:
    return [{"tenant": tenant, "region": "eu-west", "name": "Export Hotels", "properties": [{
        "property": "p1", "time_zone": "Europe/Lisbon", "check_in": "16:00", "room_policy": "all_or_nothing",
        "locks": [{"lock_id": "door-101", "vendor": "ttlock", "vendor_lock_id": "5101", "gateway_id": "1",
                   "room": "101"},
                  {"lock_id": "staff", "vendor": "wiegand", "vendor_lock_id": "staff", "gateway_id": "desk",
                   "area": "staff"}],
        "vendor_accounts": {
            "ttlock": {"base_url": "https://ttlock.example", "client_id": "app-1", "client_secret": "${EXPORT_CS}",
                       "username": "admin", "password": "${EXPORT_PW}"},
            "wiegand": {"encoders": {"desk": "/dev/ttyUSB0"}, "facility_code": 42}}}]}]


async def test_an_export_is_valid_holds_no_secret_and_loads_back_to_the_same_accounts(
        stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tenant = f"export-{uuid.uuid4().hex[:8]}"
    source = tmp_path / "directory.yaml"
    source.write_text(yaml.safe_dump(directory(tenant)))
    monkeypatch.setenv("EXPORT_CS", CLIENT_SECRET)
    monkeypatch.setenv("EXPORT_PW", PASSWORD)
    await load_directory(stack.database_url, source, stack.keys)

    exported = tmp_path / "export.yaml"
    result = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "app", "directory", "export", "--tenant", tenant, "-o", str(exported)],
        env=stack.env(), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    text = exported.read_text()
    assert CLIENT_SECRET not in text
    assert PASSWORD not in text

    [entry] = yaml.safe_load(text)
    [prop] = entry["properties"]
    prefix = f"LIS_{tenant.upper().replace('-', '_')}_P1_TTLOCK"
    monkeypatch.setenv(f"{prefix}_CLIENT_SECRET", CLIENT_SECRET)  # the references a loader of the export provides
    monkeypatch.setenv(f"{prefix}_PASSWORD", PASSWORD)
    assert [p for p in check_file(exported) if not p.warning] == []
    assert prop["vendor_accounts"]["ttlock"]["client_secret"] == f"${{{prefix}_CLIENT_SECRET}}"
    assert prop["vendor_accounts"]["ttlock"]["password"] == f"${{{prefix}_PASSWORD}}"
    assert prop["vendor_accounts"]["wiegand"] == {"encoders": {"desk": "/dev/ttyUSB0"}, "facility_code": 42}
    assert (prop["time_zone"], prop["check_in"], prop["room_policy"]) == ("Europe/Lisbon", "16:00", "all_or_nothing")
    assert [lock["lock_id"] for lock in prop["locks"]] == ["door-101", "staff"]

    pool = await create_pool(stack.database_url)
    try:
        before = await load_vendor_account(pool, stack.keys, tenant, "p1", "ttlock")
        await load_directory(stack.database_url, exported, stack.keys)
        assert await load_vendor_account(pool, stack.keys, tenant, "p1", "ttlock") == before
    finally:
        await pool.close()


def test_an_unknown_tenant_is_one_line_and_exit_1(stack: Stack) -> None:
    result = subprocess.run([sys.executable, "-m", "app", "directory", "export", "--tenant", "nobody-here"],
                            env=stack.env(), capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip() == "lis: no tenant 'nobody-here' in the lock directory"
