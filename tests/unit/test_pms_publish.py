"""``lis pms publish`` reads events as an integrator writes them (CSV, JSON, JSON Lines) and names each bad one."""

from __future__ import annotations

import json
from pathlib import Path

from app.cli.pms import read_events

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "pms-events.csv"


def test_the_documented_csv_example_is_valid_and_keeps_its_order_and_rooms() -> None:
    events, errors = read_events(EXAMPLE)
    assert errors == []
    assert [e.event_id for e in events] == ["c-1001", "c-1002", "m-1001", "o-1002"]
    assert events[1].rooms == ("102", "103")
    assert events[1].mobile_key_account == "+4915112345678"


def test_json_lines_with_a_bad_event_name_its_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    valid = {"event_id": "o1", "type": "reservation.cancelled", "tenant": "t", "region": "eu-west", "property": "p",
             "reservation": "R1", "sequence": 2, "occurred_at": "2026-12-01T10:00:00Z"}
    path.write_text("\n".join([json.dumps(valid), json.dumps({**valid, "sequence": -1}), "{}"]))
    events, errors = read_events(path)
    assert [e.event_id for e in events] == ["o1"]
    assert errors[0].startswith("line 2: sequence: Input should be greater than or equal to 0")
    assert errors[1].startswith("line 3: event_id: Field required")
