"""The ops API's dead letters of one tenant, and their replay (platform admins only).

A letter belongs to the tenant its key starts with (PMS events are keyed tenant/property/reservation, lock commands
tenant/region/lock). The view shows where it sits, its source, key, time and reason — never the value, which can
hold the PMS event's guest fields.
"""

from __future__ import annotations

from typing import Any

from faust.web import Request, Response, View

from app.dlq import Letter, read_letters, replay
from app.domain.ops_access import OpsAction
from app.settings import settings
from app.streams import app
from tables.ops_guard import OpsRequest, bad_page, key_parts, ops_view, page_of, tenant_scope


def tenant_letters(letters: list[Letter], tenant: str) -> list[Letter]:
    return [letter for letter in letters if (letter.key or "").split("/")[0] == tenant]


def listed(letter: Letter) -> dict[str, Any]:
    return {"position": letter.position, "source": letter.source_topic, "key": letter.key,
            "failed_at": letter.record.failed_at.isoformat(), "reason": letter.reason.splitlines()[0][:200],
            "replayable": letter.record.inline is not None or letter.record.source_offset is not None}


@app.page("/ops/dead-letters")
class DeadLetters(View):
    """``GET /ops/dead-letters?key=tenant[&offset=N&limit=N]``: the tenant's letters, oldest first;
    ``POST /ops/dead-letters?key=tenant&position=P:O``: send one back to its source topic (platform admins)."""

    @ops_view("dead-letters", tenant_scope)
    async def get(self, request: Request, ops: OpsRequest) -> Response:
        page = page_of(request)
        if page is None:
            return bad_page(self)
        offset, limit = page
        (tenant,) = key_parts(ops.key, 1)
        letters = tenant_letters(await read_letters(settings.kafka_bootstrap_servers, timeout_s=10), tenant)
        return self.json({"key": ops.key, "total": len(letters), "offset": offset, "limit": limit,
                          "letters": [listed(letter) for letter in letters[offset:offset + limit]]})

    @ops_view("dead-letters.replay", tenant_scope, action=OpsAction.REPLAY)
    async def post(self, request: Request, ops: OpsRequest) -> Response:
        (tenant,) = key_parts(ops.key, 1)
        position = request.query.get("position", "")
        letters = tenant_letters(await read_letters(settings.kafka_bootstrap_servers, timeout_s=10), tenant)
        chosen = [letter for letter in letters if letter.position == position]
        if not chosen:
            return self.json({"reason": "not_found", "detail": f"no dead letter of {tenant} at {position!r}"},
                             status=404)
        sent = await replay(settings.kafka_bootstrap_servers, chosen)
        return self.json({"key": ops.key, "position": position, "replayed": sent})
