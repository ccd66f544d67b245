"""The ops API's property summary: every lock of a property with its condition and credentials, counted by vendor,
condition and credential state, with the master-key shift and the property's dead letters.

A property's locks sit on every partition, so the answer is a scatter-gather over the workers that own them: the
directory (PostgreSQL) lists the locks, each is assigned to its owner by the raw key's partition, and each owner
answers its share (``part=local``) from its own tables — one request per worker, not per lock.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from faust.web import Request, Response, View
from yarl import URL

from app.dlq import read_letters
from app.domain.directory import DirectoryLock, PropertyDirectory
from app.domain.lock_saga import IN_FLIGHT, CredentialStatus
from app.runtime import runtime
from app.settings import settings
from app.streams import app
from tables.master_keys import master_keys, masters_answer
from tables.ops_dead_letters import listed
from tables.ops_guard import (
    OpsRequest,
    ask_owner,
    bad_page,
    here,
    key_parts,
    ops_view,
    owner_of,
    page_of,
    property_scope,
)
from tables.ops_views import lock_answer
from tables.sagas import lock_sagas

LIVE = {CredentialStatus.ISSUED, CredentialStatus.UPDATING, CredentialStatus.REVOKING}
FAILED = {CredentialStatus.ISSUE_FAILED, CredentialStatus.REVOKE_FAILED}


@app.page("/ops/properties")
@ops_view("properties", property_scope)
async def property_view(web: View, request: Request, ops: OpsRequest) -> Response:
    """``GET /ops/properties?key=tenant/property[&offset=N&limit=N]``: the property summary and a page of its locks
    (``part=local``: only this worker's share of the locks, for the worker gathering the summary)."""
    tenant, property_id = key_parts(ops.key, 2)
    page = page_of(request)
    if page is None:
        return bad_page(web)
    directory = await (await runtime()).directory.property_directory(tenant, property_id)
    if directory is None:
        return web.json({"reason": "not_found"}, status=404)
    owners: dict[URL, list[str]] = {}
    for lock in directory.locks:
        owners.setdefault(owner_of(lock_sagas, directory.ref(lock).key), []).append(lock.lock_id)
    if request.query.get("part") == "local":
        return web.json({"rows": local_rows(directory, owners.get(here(), []))})
    rows = local_rows(directory, owners.pop(here(), []))
    for owner in owners:
        rows += (await ask_owner(owner, "/ops/properties", {"key": ops.key, "part": "local"}, request) or {}).get(
            "rows", [])
    owner = owner_of(master_keys, ops.key)
    masters = masters_answer(ops.key) if owner == here() else await ask_owner(
        owner, "/ops/master-keys", {"key": ops.key}, request)
    offset, limit = page
    return web.json({**summarize(rows), "master_keys": masters, "dead_letters": await dead_letters(directory),
                     "offset": offset, "limit": limit,
                     "locks": sorted(rows, key=lambda row: row["lock_id"])[offset:offset + limit]})


def local_rows(directory: PropertyDirectory, lock_ids: list[str]) -> list[dict[str, Any]]:
    """One row per lock of ``lock_ids`` from this worker's tables."""
    by_id = {lock.lock_id: lock for lock in directory.locks}
    return [lock_row(directory, by_id[lock_id]) for lock_id in lock_ids]


def lock_row(directory: PropertyDirectory, lock: DirectoryLock) -> dict[str, Any]:
    answer = lock_answer(directory.ref(lock).key) or {"credentials": {}, "condition": None}
    condition = answer["condition"] or {}
    return {"lock_id": lock.lock_id, "key": directory.ref(lock).key, "vendor": str(lock.vendor), "room": lock.room,
            "area": lock.area, "online": condition.get("online"), "battery_percent": condition.get("battery_percent"),
            "credentials": [{"stay": stay, "status": record["status"], "kind": record["kind"],
                             "attempts": record["attempts"], "cause": record["cause"], "validity": record["validity"]}
                            for stay, record in sorted(answer["credentials"].items())]}


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts over every lock row: locks by vendor and condition, credentials by state, the steps in flight and
    the failed ones (by lock and stay)."""
    statuses = Counter(credential["status"] for row in rows for credential in row["credentials"])
    condition = Counter("unknown" if row["online"] is None else "online" if row["online"] else "offline"
                        for row in rows)
    steps = [{"lock_id": row["lock_id"], "stay": credential["stay"], "status": credential["status"],
              "attempts": credential["attempts"], "cause": credential["cause"]}
             for row in rows for credential in row["credentials"]]
    return {"lock_count": len(rows), "by_vendor": dict(Counter(row["vendor"] for row in rows)),
            "by_condition": dict(condition), "credentials": dict(statuses),
            "live_credentials": sum(statuses[status] for status in LIVE),
            "in_flight": [step for step in steps if CredentialStatus(step["status"]) in IN_FLIGHT],
            "failed": [step for step in steps if CredentialStatus(step["status"]) in FAILED]}


async def dead_letters(directory: PropertyDirectory) -> list[dict[str, Any]]:
    """The property's dead letters: PMS events keyed by its stays, lock commands keyed by its locks."""
    stays = f"{directory.tenant}/{directory.property}/"
    locks = {directory.ref(lock).key for lock in directory.locks}
    letters = await read_letters(settings.kafka_bootstrap_servers, timeout_s=10)
    return [listed(letter) for letter in letters
            if letter.key and (letter.key.startswith(stays) or letter.key in locks)]

