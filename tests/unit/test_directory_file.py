"""The directory file is checked offline, each planted problem reported at its line, and ``lis directory load``
refuses a broken file before it connects anywhere."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from app.directory_file import check_file

BROKEN = Path(__file__).resolve().parents[1] / "testdata" / "directory" / "broken.yaml"
ENVIRON = {"TTLOCK_CLIENT_ID": "set"}


def test_every_planted_schema_error_is_found_at_its_line() -> None:
    found = [str(p) for p in check_file(BROKEN, ENVIRON)]
    # Schema errors come first and alone: the missing time zone.
    assert found == ["line 17: error: tenants[0].properties[1].time_zone: Field required"]


def test_every_planted_semantic_error_is_found_at_its_line(tmp_path: Path) -> None:
    fixed = tmp_path / "directory.yaml"  # the schema errors mended (one line added), the rest left
    fixed.write_text(BROKEN.read_text()
                     .replace("- property: paris\n", "- property: paris\n      time_zone: Europe/Paris\n"))
    found = [str(p) for p in check_file(fixed, ENVIRON)]
    expected = [
        "line 10: error: tenants[0].properties[0].vendor_accounts.ttlock.client_secret: references "
        "${TTLOCK_SECRET_NOT_SET}, which is not set in this environment",
        "line 11: error: tenants[0].properties[0].vendor_accounts.ttlock.password: '$TTLOCK_PASSWORD' is not a "
        "reference",
        "line 13: error: tenants[0].properties[0].locks[0].lock_id: lock id 'door-101' appears 2 times",
        "line 15: error: tenants[0].properties[0].locks[2].vendor: no vendor_accounts.salto for this salto lock",
        "line 16: error: tenants[0].properties[0].locks[3].vendor: no vendor 'nuki' is installed here (installed: "
        "ttlock, salto, wiegand)",
        "line 20: error: tenants[0].properties[1].locks[0].vendor: no vendor_accounts.ttlock",
        "line 22: error: tenants[0].properties[2].time_zone: Value error, 'Australia/Syndey' is not an IANA",
        "line 25: error: tenants[0].properties[2].locks[0]: a lock serves a room or an area, not both",
        "line 25: error: tenants[0].properties[2].locks[0].vendor: no vendor_accounts.wiegand",
    ]
    for line in expected:
        assert any(problem.startswith(line) for problem in found), f"not reported: {line}\nfound: {found}"


def test_a_yaml_syntax_error_and_a_missing_file_are_one_line_each(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("- tenant: acme\n  region: [eu-west\n")
    (problem,) = check_file(bad, {})
    assert problem.line == 3
    assert "not YAML/JSON" in problem.what
    (missing,) = check_file(tmp_path / "nothing.yaml", {})
    assert "cannot read" in missing.what


def test_load_refuses_a_broken_file_before_connecting() -> None:
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": "postgresql://lis_app:x@127.0.0.1:9/none",
           "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9"}
    done = subprocess.run([sys.executable, "-m", "app", "directory", "load", str(BROKEN)], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "nothing loaded" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert "Connect" not in done.stderr, "it tried the database first"


def test_the_documented_example_directory_is_clean() -> None:
    example = Path(__file__).resolve().parents[2] / "docs" / "examples" / "directory.yaml"
    names = ("TTLOCK_CLIENT_ID", "TTLOCK_CLIENT_SECRET", "TTLOCK_USERNAME", "TTLOCK_PASSWORD", "SALTO_CLIENT_ID",
             "SALTO_CLIENT_SECRET")
    assert check_file(example, dict.fromkeys(names, "x")) == []


def test_two_locks_naming_the_same_vendor_lock_are_an_error(tmp_path: Path) -> None:
    path = tmp_path / "directory.yaml"
    path.write_text("""- tenant: acme
  region: eu-west
  properties:
    - property: p1
      time_zone: Europe/Berlin
      vendor_accounts: {wiegand: {encoders: {e1: /dev/null}, facility_code: 1}}
      locks:
        - {lock_id: door-1, vendor: wiegand, vendor_lock_id: zone-a, gateway_id: e1, room: "1"}
        - {lock_id: door-2, vendor: wiegand, vendor_lock_id: zone-a, gateway_id: e1, room: "2"}
""")
    found = [str(p) for p in check_file(path, {})]
    assert any(p.startswith("line 9: error: tenants[0].properties[0].locks[1].vendor_lock_id: wiegand lock 'zone-a' "
                            "is named by 2 locks") for p in found), found


def test_a_webhook_vendors_lock_id_in_two_properties_is_an_error_and_a_serial_zones_is_not(tmp_path: Path) -> None:
    path = tmp_path / "directory.yaml"
    accounts = ("{salto: {base_url: 'https://salto.example', client_id: c, client_secret: '${S}'}, "
                "wiegand: {encoders: {e1: /dev/null}, facility_code: 1}}")
    path.write_text(f"""- tenant: acme
  region: eu-west
  properties:
    - property: p1
      time_zone: Europe/Berlin
      vendor_accounts: {accounts}
      locks:
        - {{lock_id: p1-door, vendor: salto, vendor_lock_id: AP-1, room: "1"}}
        - {{lock_id: p1-staff, vendor: wiegand, vendor_lock_id: staff, gateway_id: e1, area: staff}}
    - property: p2
      time_zone: Europe/Berlin
      vendor_accounts: {accounts}
      locks:
        - {{lock_id: p2-door, vendor: salto, vendor_lock_id: AP-1, room: "1"}}
        - {{lock_id: p2-staff, vendor: wiegand, vendor_lock_id: staff, gateway_id: e1, area: staff}}
""")
    found = [str(p) for p in check_file(path, {"S": "x"})]
    assert [p.split(": error: ")[1].split(":")[0] for p in found] == [
        "tenants[0].properties[0].locks[0].vendor_lock_id", "tenants[0].properties[1].locks[0].vendor_lock_id"], found
    assert all("in more than one property of tenant 'acme'" in p for p in found), found


def test_a_vendor_url_to_the_metadata_service_or_this_machine_is_an_error_unless_the_sandboxes_are_asked_for(
        tmp_path: Path) -> None:
    path = tmp_path / "directory.yaml"
    path.write_text("""- tenant: acme
  region: eu-west
  properties:
    - property: p1
      time_zone: Europe/Berlin
      vendor_accounts:
        ttlock: {base_url: "http://169.254.169.254/latest", client_id: c, client_secret: "${S}"}
        salto: {base_url: "http://127.0.0.1:8082", client_id: c, client_secret: "${S}"}
      locks:
        - {lock_id: door-1, vendor: ttlock, vendor_lock_id: "1", room: "1"}
        - {lock_id: door-2, vendor: salto, vendor_lock_id: ap-2, room: "2"}
""")
    found = [str(p) for p in check_file(path, {"S": "x"})]
    assert [p.split(": ")[2] for p in found] == ["tenants[0].properties[0].vendor_accounts.ttlock.base_url",
                                                 "tenants[0].properties[0].vendor_accounts.salto.base_url"], found
    assert "link-local" in found[0]
    assert "--allow-loopback-vendors" in found[1]
    sandboxes = [str(p) for p in check_file(path, {"S": "x"}, allow_loopback_vendors=True)]
    assert [p.split(": ")[2] for p in sandboxes] == ["tenants[0].properties[0].vendor_accounts.ttlock.base_url"]
