"""The Generic Wiegand HIL checklist against the pty simulator: the real serial code path, no hardware."""

from __future__ import annotations

import json
import tempfile
from datetime import datetime
from pathlib import Path

from typer.testing import CliRunner

from adapters.wiegand.sandbox import WiegandSandbox
from app.devstack.hil import hil_cli, run_checklist, run_on_simulator

CHECKS = ["encoder answers", "encode", "read back", "parity", "validity", "blocklist", "unplug/replug recovery"]


async def test_every_check_of_the_wiegand_checklist_passes_on_the_simulator() -> None:
    checks = await run_on_simulator("staff", 42, first_card=1000)

    assert [(c.name, c.ok) for c in checks] == [(name, True) for name in CHECKS], checks


async def test_the_checklist_reports_an_encoder_without_cards_as_failed_checks() -> None:
    with tempfile.TemporaryDirectory() as link_dir:
        sandbox = WiegandSandbox(encoders=["hil"], zones=["staff"], link_dir=Path(link_dir))
        sandbox.faults.set("no_card")  # an empty feeder: every card write and read is refused
        async with sandbox.running():

            async def nothing() -> None:
                return None

            checks = await run_checklist(
                sandbox.port_of("hil"), zone="staff", facility=42, first_card=7, unplug=nothing, replug=nothing
            )

    failed = {c.name: c.detail for c in checks if not c.ok}
    assert set(failed) == {"encode", "read back", "parity", "validity", "blocklist", "unplug/replug recovery"}
    assert "no card on the encoder" in failed["encode"]


def test_lis_hil_wiegand_runs_the_checklist_on_the_simulator_exits_zero_and_records_a_dated_result(
        tmp_path: Path) -> None:
    result = CliRunner().invoke(hil_cli, ["wiegand", "--card", "2000", "--record", str(tmp_path)])

    assert result.exit_code == 0, result.output
    for name in CHECKS:
        assert f"[PASS] {name}:" in result.output
    assert "7 passed, 0 failed" in result.output
    (recorded,) = tmp_path.glob("*.json")
    written = json.loads(recorded.read_text())
    assert written["simulator"] is True
    assert [check["name"] for check in written["checks"]] == list(CHECKS)
    assert all(check["ok"] for check in written["checks"])
    assert datetime.fromisoformat(written["date"]).tzinfo is not None
