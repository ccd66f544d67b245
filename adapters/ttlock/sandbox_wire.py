"""The TTLock sandbox's wire values, apart from its handlers: integer parameters, PINs, pages and list records."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from adapters.ttlock.sandbox_state import Credential, TTLockError


def int_param(p: Mapping[str, str], name: str, default: int | None = None) -> int:
    """An integer parameter; without a ``default`` it is required (TTLock's errcode -3 otherwise)."""
    raw = p.get(name)
    if raw is None or raw == "":
        if default is None:
            raise TTLockError(-3, f"Invalid Parameter: {name} is required")
        return default
    try:
        return int(raw)
    except ValueError:
        raise TTLockError(-3, f"Invalid Parameter: {name} must be an integer") from None


def check_pin(pwd: str) -> str:
    """A custom passcode: 4 to 9 digits (errcode -3006 otherwise)."""
    if not re.fullmatch(r"[0-9]{4,9}", pwd):
        raise TTLockError(-3006, "passcode must be 4 to 9 digits")
    return pwd


def page(items: list[dict[str, Any]], p: Mapping[str, str]) -> dict[str, Any]:
    """The ``pageNo``/``pageSize`` page of a list endpoint's items, with TTLock's paging fields."""
    page_no, page_size = int_param(p, "pageNo", 1), int_param(p, "pageSize", 20)
    if page_no < 1 or not 1 <= page_size <= 200:
        raise TTLockError(-3, "Invalid Parameter: pageNo >= 1 and pageSize 1..200")
    chunk = items[(page_no - 1) * page_size : page_no * page_size]
    return {
        "list": chunk,
        "pageNo": page_no,
        "pageSize": page_size,
        "pages": math.ceil(len(items) / page_size),
        "total": len(items),
    }


def listed(c: Credential, lock_id: int) -> dict[str, Any]:
    """A credential as TTLock's list endpoints show it."""
    common = {"lockId": lock_id, "startDate": c.start_ms, "endDate": c.end_ms}
    if c.kind == "passcode":
        return {
            **common,
            "keyboardPwdId": c.vendor_id,
            "keyboardPwd": c.secret,
            "keyboardPwdName": c.name,
            "keyboardPwdType": 3 if c.end_ms else 2,
            "isCustom": 0 if c.algorithmic else 1,
        }
    if c.kind == "ekey":
        return {**common, "keyId": c.vendor_id, "username": c.secret, "keyName": c.name, "keyStatus": "110401"}
    return {**common, "cardId": c.vendor_id, "cardNumber": c.secret, "cardName": c.name}
