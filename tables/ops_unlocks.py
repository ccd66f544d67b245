"""The ops API's unlock records of a lock: the lock's own record of each keypad attempt, synced from the vendor, with
the stay whose code was typed — an offline passcode handed out while the gateway was down included. The codes are
matched on the worker that owns the lock and never leave it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from faust.web import Request, Response, View

from app.credential_material import CredentialMaterial
from app.db_retry import until_database_answers
from app.domain.credential import CredentialKind, LockRef
from app.domain.errors import LockError
from app.domain.lock_port import UnlockLog
from app.domain.lock_saga import LockSaga
from app.domain.unlocks import CodeOwner, attribute_unlocks
from app.runtime import runtime
from app.streams import app
from app.vendor_calls import PIN_ATTEMPTS
from tables.ops_guard import OpsRequest, lock_scope, ops_view
from tables.sagas import lock_sagas

SPAN_MAX = timedelta(days=7)


@app.page("/ops/unlocks")
@ops_view("unlocks", lock_scope, table=lock_sagas)
async def unlocks_view(web: View, request: Request, ops: OpsRequest) -> Response:
    """``GET /ops/unlocks?key=tenant/region/lock[&from=ISO&to=ISO]``: the lock's keypad attempts between two times
    (default the last 24 hours, at most a week), oldest first, each with whether the door opened and the stay whose
    code it was."""
    window = _window(request)
    if window is None:
        return web.json({"reason": "bad_window", "detail": "from and to: ISO 8601 times with an offset, from before "
                         f"to, at most {SPAN_MAX.days} days apart"}, status=400)
    raw: bytes | None = lock_sagas.get(ops.key)
    if raw is None:
        return web.json({"reason": "not_found"}, status=404)
    saga, rt = LockSaga.model_validate_json(raw), await runtime()
    lock = saga.lock
    try:
        port = await until_database_answers(lambda: rt.ports.port(lock.tenant, lock.property, lock.vendor))
        if not isinstance(port, UnlockLog):
            return web.json({"reason": "no_unlock_records", "detail": f"{lock.vendor} locks upload no unlock "
                             "records"}, status=409)
        unlocks = await port.unlocks(lock, *window)
    except LockError as err:
        return web.json({"reason": "vendor_unavailable", "detail": f"{type(err).__name__}: {err}"}, status=503)
    owners = await code_owners(rt.material, lock, saga)
    return web.json({"key": ops.key, "from": window[0].isoformat(), "to": window[1].isoformat(), "unlocks": [
        unlock.model_dump(mode="json") for unlock in attribute_unlocks(unlocks, owners)]},
        headers={"Cache-Control": "no-store"})


async def code_owners(material: CredentialMaterial, lock: LockRef, saga: LockSaga) -> dict[str, CodeOwner]:
    """Every code a stay of this lock may have: its offline passcode, or the PINs its issue attempts would use."""
    owners: dict[str, CodeOwner] = {}
    for record in saga.credentials.values():
        if record.sealed_code is not None:
            owners[material.open_code(lock.tenant, record.stay, record.sealed_code)] = CodeOwner(
                stay=record.stay, offline=record.offline)
        elif record.kind is CredentialKind.PASSCODE and record.idempotency_key:
            for attempt in range(PIN_ATTEMPTS):
                code = await material.secret(lock, record, attempt)
                if code is not None:
                    owners.setdefault(code, CodeOwner(stay=record.stay, offline=False))
    return owners


def _window(request: Request) -> tuple[datetime, datetime] | None:
    try:
        end = datetime.fromisoformat(request.query["to"]) if "to" in request.query else datetime.now(UTC)
        start = datetime.fromisoformat(request.query["from"]) if "from" in request.query else end - timedelta(days=1)
    except ValueError:
        return None
    if start.tzinfo is None or end.tzinfo is None or not timedelta(0) < end - start <= SPAN_MAX:
        return None
    return start, end
