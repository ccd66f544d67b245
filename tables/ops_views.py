"""The ops API's views over the Faust tables: a lock, a stay, the breakers (``docs/OPS_API.md``,
``docs/openapi-ops.yaml``).

Every view is guarded by :func:`tables.ops_guard.ops_view`; keys are checked against the token before any table is
read. Nothing secret is answered: saga records drop the sealed mobile-key account, guests appear as pseudonyms.
"""

from __future__ import annotations

from typing import Any

from faust.web import Request, Response, View

from app.domain.lock_saga import LockSaga
from app.domain.ops_access import OpsAction
from app.domain.stay import Stay
from app.runtime import runtime
from app.streams import app
from tables.lock_status import read_lock_condition
from tables.ops_guard import (
    OpsRequest,
    ask_owner,
    here,
    key_parts,
    lock_scope,
    ops_view,
    owner_of,
    platform_scope,
    property_scope,
)
from tables.sagas import lock_sagas, read_stay, stays


def lock_answer(key: str) -> dict[str, Any] | None:
    """The lock's saga records, its last reported condition and its breaker, from this worker's tables."""
    raw: bytes | None = lock_sagas.get(key)
    saga = LockSaga.model_validate_json(raw) if raw is not None else None
    condition = read_lock_condition(key)
    if saga is None and condition is None:
        return None
    credentials = {} if saga is None else {
        stay: record.model_dump(mode="json", exclude={"mobile_account", "queued", "sealed_code"})
        for stay, record in saga.credentials.items()}
    return {"key": key, "credentials": credentials,
            "condition": None if condition is None else condition.model_dump(mode="json"),
            "vendor": None if saga is None else str(saga.lock.vendor)}


@app.page("/ops/locks")
@ops_view("locks", lock_scope, table=lock_sagas)
async def lock_view(web: View, request: Request, ops: OpsRequest) -> Response:
    """``GET /ops/locks?key=tenant/region/lock``: the lock's credentials, condition and breaker, and which worker
    owns it."""
    answer = lock_answer(ops.key)
    if answer is None:
        return web.json({"reason": "not_found"}, status=404)
    states = (await runtime()).caller.breaker_states()
    answer["breaker"] = states.get(f"{ops.key.split('/')[0]}/{answer['vendor']}", "closed")
    answer["worker"] = str(app.conf.canonical_url)  # the owner that answered (other workers forward to it)
    return web.json(answer)


@app.page("/ops/credential-code")
@ops_view("credential-code", lock_scope, table=lock_sagas, action=OpsAction.REVEAL)
async def credential_code_view(web: View, request: Request, ops: OpsRequest) -> Response:
    """``GET /ops/credential-code?key=tenant/region/lock&stay=tenant/property/reservation``: the passcode a guest's
    stay got on the lock (its PIN, or the offline passcode that stood in for it), for the front desk to hand over
    (operators and admins; every reading audited)."""
    raw: bytes | None = lock_sagas.get(ops.key)
    record = None if raw is None else LockSaga.model_validate_json(raw).credentials.get(request.query.get("stay", ""))
    if record is None or record.sealed_code is None:
        return web.json({"reason": "not_found", "detail": "no passcode known for that stay on this lock (not a "
                         "passcode, not issued yet, or adopted after a lost answer: see docs/OPS_API.md)"}, status=404)
    code = (await runtime()).material.open_code(ops.key.split("/")[0], record.stay, record.sealed_code)
    return web.json({"key": ops.key, "stay": record.stay, "code": code, "offline": record.offline,
                     "status": str(record.status),
                     "validity": None if record.validity is None else record.validity.model_dump(mode="json")},
                    headers={"Cache-Control": "no-store"})


@app.page("/ops/stays")
@ops_view("stays", property_scope, table=stays)
async def stay_view(web: View, request: Request, ops: OpsRequest) -> Response:
    """``GET /ops/stays?key=tenant/property/reservation``: the stay and each of its locks' credential for it."""
    key_parts(ops.key, 3)
    stay = read_stay(ops.key)
    if stay is None:
        return web.json({"reason": "not_found"}, status=404)
    locks = [await _credential_on(lock.key, stay, request) for lock in stay.locks]
    return web.json({"key": ops.key, "status": str(stay.status), "sequence": stay.sequence, "kind": str(stay.kind),
                     "validity": None if stay.validity is None else stay.validity.model_dump(mode="json"),
                     "guest_ref": stay.guest_ref, "locks": locks})


async def _credential_on(lock_key: str, stay: Stay, request: Request) -> dict[str, Any]:
    """The stay's credential record on one lock: read here when this worker owns the lock, else asked of its owner
    through its lock view (with the caller's token, so the owner checks and audits it too)."""
    owner = owner_of(lock_sagas, lock_key)
    if owner == here():
        answer = lock_answer(lock_key)
    else:
        answer = await ask_owner(owner, "/ops/locks", {"key": lock_key}, request)
    credential = None if answer is None else answer["credentials"].get(stay.stay)
    return {"lock": lock_key, "credential": credential}


@app.page("/ops/breakers")
@ops_view("breakers", platform_scope, keyed=False)
async def breakers_view(web: View, request: Request, ops: OpsRequest) -> Response:
    """``GET /ops/breakers``: ``{"tenant/vendor": "closed" | "open" | "half_open"}`` of the breakers this worker
    used, only the caller's tenants' unless it is a platform admin."""
    states = (await runtime()).caller.breaker_states()
    seen = ops.decision.tenants
    return web.json({name: state for name, state in states.items()
                     if seen is None or name.split("/")[0] in seen})
