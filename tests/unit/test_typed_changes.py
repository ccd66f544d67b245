"""Saga and shift state change through typed helpers: a misspelt field or a wrong type is a mypy error, and the
typed change sets stay in step with the models they change."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from app.domain.lock_saga import CredentialRecord, RecordChanges
from app.domain.master_shift import MasterShift, ShiftChanges

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("changes", "model"), [(RecordChanges, CredentialRecord), (ShiftChanges, MasterShift)])
def test_every_typed_change_names_a_field_of_its_model_with_the_fields_type(changes: type, model: type[BaseModel]
                                                                           ) -> None:
    hints = typing.get_type_hints(changes)
    fields = typing.get_type_hints(model)
    assert set(hints) <= set(model.model_fields), f"not fields of {model.__name__}: {set(hints) - set(fields)}"
    wrong = {name: (hint, fields[name]) for name, hint in hints.items() if hint != fields[name]}
    assert not wrong, f"types differ from {model.__name__}'s: {wrong}"


@pytest.mark.slow
def test_mypy_rejects_a_misspelt_field_and_a_wrong_type_in_a_saga_change(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(textwrap.dedent("""
        from app.domain.lock_saga import CredentialRecord, CredentialStatus, changed_record

        def misspelt(record: CredentialRecord) -> CredentialRecord:
            return changed_record(record, statsu=CredentialStatus.ISSUED)

        def wrong_type(record: CredentialRecord) -> CredentialRecord:
            return changed_record(record, attempts="x")

        def fine(record: CredentialRecord) -> CredentialRecord:
            return changed_record(record, status=CredentialStatus.ISSUED, attempts=1)
    """))
    result = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--follow-imports=silent",
                             "--config-file", str(ROOT / "pyproject.toml"), str(probe)],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    lines = [line for line in result.stdout.splitlines() if "probe.py" in line and "error" in line]
    assert any('Unexpected keyword argument "statsu"' in line for line in lines), result.stdout
    assert any('"attempts"' in line and "incompatible type" in line.lower() for line in lines), result.stdout
    assert len(lines) == 2, f"only the two planted errors: {result.stdout}"
