"""Parsing of TTLock callbacks (lock records pushed to our callback URL); pure, no I/O.

TTLock does not sign callbacks, so a parsed callback is only a claim: the ingress authenticates it by a per-tenant
secret in the callback path and confirms the record through ``/v3/lockRecord/list`` before trusting it
(:mod:`adapters.ttlock.callbacks`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from adapters.ttlock.mapping import from_ms

ACK: Final = "success"  # the plain-text answer TTLock expects, or it retries the callback
RECORDS_NOTIFY_TYPE: Final = 1  # the only notifyType carrying lock records


class _Wire(BaseModel):
    # TTLock adds fields over time; unknown ones are ignored rather than refused.
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class TTLockRecord(_Wire):
    """One lock record (unlock, passcode use, card swipe...) as TTLock reports it."""

    record_type: int = Field(alias="recordType")
    success: bool
    username: str | None = None
    keyboard_pwd: str | None = Field(default=None, alias="keyboardPwd")
    lock_date: datetime = Field(alias="lockDate")
    server_date: datetime = Field(alias="serverDate")
    electric_quantity: int | None = Field(default=None, alias="electricQuantity")

    @field_validator("lock_date", "server_date", mode="before")
    @classmethod
    def _from_ms(cls, value: Any) -> datetime:
        if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdecimal():
            raise ValueError("must be a timestamp in milliseconds")
        return from_ms(int(value))

    @field_validator("success", mode="before")
    @classmethod
    def _success_flag(cls, value: Any) -> bool:
        # TTLock sends 1/0; accept real booleans too, refuse anything else instead of guessing.
        if value in (0, 1, True, False, "0", "1"):
            return bool(int(value))
        raise ValueError("must be 1 or 0")

    @field_validator("electric_quantity", mode="before")
    @classmethod
    def _battery(cls, value: Any) -> Any:
        # -1 means the lock did not report its battery with this record.
        return None if value in (-1, "-1", "", None) else value


class TTLockCallback(_Wire):
    """A callback form: the lock it concerns and its records."""

    notify_type: int = Field(alias="notifyType")
    lock_id: int = Field(alias="lockId")
    lock_mac: str = Field(alias="lockMac")
    admin: str
    records: list[TTLockRecord]


def parse_callback(form: Mapping[str, str]) -> TTLockCallback:
    """The callback in a TTLock form; ValueError naming the first problem if it is not one."""
    missing = [name for name in ("notifyType", "lockId", "lockMac", "admin", "records") if not form.get(name)]
    if missing:
        raise ValueError(f"TTLock callback lacks {', '.join(missing)}")
    if form["notifyType"] != str(RECORDS_NOTIFY_TYPE):
        raise ValueError(f"TTLock callback notifyType {form['notifyType']!r} is not {RECORDS_NOTIFY_TYPE} (records)")
    try:
        records = json.loads(form["records"])
    except json.JSONDecodeError as err:
        raise ValueError(f"TTLock callback records is not JSON: {err.msg} at {err.pos}") from err
    if not isinstance(records, list):
        raise ValueError(f"TTLock callback records must be a JSON list, got {type(records).__name__}")
    try:
        return TTLockCallback.model_validate(
            {
                "notifyType": form["notifyType"],
                "lockId": form["lockId"],
                "lockMac": form["lockMac"],
                "admin": form["admin"],
                "records": records,
            }
        )
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ValueError(f"TTLock callback field {where}: {first['msg']}") from err
