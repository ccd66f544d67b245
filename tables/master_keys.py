"""The master-key state of each property (live master, shift in progress), keyed tenant/property like
``ops.commands``; and its ops view, routed to the worker that owns the key."""

from __future__ import annotations

from typing import Any

from faust.web import Request, Response, View

from app.domain.master_shift import PropertyMasters
from app.domain.wire import wire
from app.streams import app
from tables.ops_guard import OpsRequest, ops_view, property_scope

master_keys = app.Table("master_keys", default=None, key_type=str, value_type=bytes,
                        help="Master-key shifts by tenant/property")


def read_masters(key: str) -> PropertyMasters:
    raw: bytes | None = master_keys.get(key)
    return PropertyMasters.model_validate_json(raw) if raw is not None else PropertyMasters()


def write_masters(key: str, state: PropertyMasters) -> None:
    master_keys[key] = wire(state)


@app.page("/ops/master-keys")
@ops_view("master-keys", property_scope, table=master_keys)
async def master_keys_view(web: View, request: Request, ops: OpsRequest) -> Response:
    """``GET /ops/master-keys?key=tenant/property``: the property's shift, its per-lock phases and stragglers."""
    return web.json(masters_answer(ops.key))


def masters_answer(key: str) -> dict[str, Any]:
    """The master-key state of a tenant/property key held by this worker."""
    state = read_masters(key)
    shift = state.shift
    return {"current_shift": state.current_shift, "shift": None if shift is None else {
        "shift_id": shift.request.shift_id, "status": shift.status, "counts": shift.counts(),
        "stragglers": shift.stragglers, "phases": shift.phases}}
