"""Canonical event schemas: JSON Schema generated from the pydantic models into ``schemas/``.

``lis schemas write`` regenerates them; a test fails when a file drifts from its model, so the published schema
and the code cannot disagree.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from app.directory_file import DirectoryFile
from app.domain.audit_record import AuditRecord
from app.domain.lock_event import LockCommand, LockEvent
from app.domain.lock_status import LockStatusEvent
from app.domain.master_shift import ShiftProgress
from app.domain.reconcile import LockReconciled
from app.domain.reservation import ReservationEvent

SCHEMAS: dict[str, type[BaseModel]] = {
    "pms.reservations.v1": ReservationEvent,
    "lock.commands.v1": LockCommand,
    "lock.events.v1": LockEvent,
    "lock.audit.v1": AuditRecord,
    "lock.events.lock-status.v1": LockStatusEvent,
    "lock.events.master-key-progress.v1": ShiftProgress,
    "lock.events.reconciled.v1": LockReconciled,
    "directory.v1": DirectoryFile,
}
SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"


def render(model: type[BaseModel]) -> str:
    """The JSON Schema text of ``model`` as stored in ``schemas/`` (stable key order, trailing newline)."""
    return json.dumps(model.model_json_schema(mode="serialization"), indent=2, sort_keys=True) + "\n"


def write_schemas(folder: Path = SCHEMA_DIR) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, model in SCHEMAS.items():
        path = folder / f"{name}.json"
        path.write_text(render(model))
        written.append(path)
    return written
