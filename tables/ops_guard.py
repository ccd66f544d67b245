"""The ops API's door: every view is authenticated, authorised against the key's tenant (and property) before any
table is read, routed to the worker that owns the key, and audited onto ``lock.audit``.

A request is decided where it arrives: a refusal (401 bad token, 403 wrong tenant or role, 400 bad key) is answered
and audited there. An allowed request for a key another worker owns is forwarded with its headers (Faust's router),
and the owner, which verifies the token again, audits and answers it: one audit record per request.
"""

from __future__ import annotations

import asyncio
import functools
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from faust.types import TableT
from faust.web import Request, Response, View
from faust.web.exceptions import ServiceUnavailable
from yarl import URL

from app.domain.audit_record import AuditRecord
from app.domain.ops_access import Decision, OpsAction, OpsPrincipal, OpsScope, authorize
from app.metrics import OPS_REQUESTS
from app.runtime import runtime
from app.security.ops_tokens import TokenPolicy, TokenRefused, TokenVerifier, signing_keys
from app.settings import settings
from app.streams import app, lock_audit, publish_acked

PLATFORM = "_platform"  # the audit tree of refused requests and of accesses to platform-wide views


@dataclass(frozen=True)
class OpsRequest:
    """What an ops view is handed once the request is allowed."""

    key: str
    principal: OpsPrincipal
    decision: Decision


ScopeOf = Callable[[str, OpsPrincipal], Awaitable[OpsScope]]
AnyView = TypeVar("AnyView", bound=View)  # a page function's View, or a class-based view's self
OpsHandler = Callable[[AnyView, Request, OpsRequest], Awaitable[Response]]
Guarded = Callable[[AnyView, Request], Awaitable[Response]]


class KeyRefused(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@functools.cache
def verifier() -> TokenVerifier:
    policy = TokenPolicy(issuer=settings.ops_issuer, audience=settings.ops_audience, leeway_s=settings.ops_leeway_s)
    return TokenVerifier(policy, signing_keys(settings.ops_jwks_source))


def key_parts(key: str, count: int) -> list[str]:
    """``key`` split on ``/`` into exactly ``count`` non-empty parts, or :class:`KeyRefused`."""
    parts = key.split("/")
    if len(parts) != count or not all(parts):
        raise KeyRefused("key_malformed", f"key must have {count} parts separated by /")
    return parts


async def lock_scope(key: str, principal: OpsPrincipal) -> OpsScope:
    """A tenant/region/lock key's tenant, and for a token limited to some properties the one holding the lock."""
    tenant, region, lock_id = key_parts(key, 3)
    if not principal.property_limited(tenant):
        return OpsScope(tenant)
    directory = (await runtime()).directory
    for allowed in sorted(principal.properties):
        owner, property_id = allowed.split("/", 1)
        found = await directory.property_directory(owner, property_id) if owner == tenant else None
        if found is not None and found.region == region and any(lock.lock_id == lock_id for lock in found.locks):
            return OpsScope(tenant, property_id)
    return OpsScope(tenant)  # refused: not a lock of its properties (whether it exists is not told)


async def property_scope(key: str, principal: OpsPrincipal) -> OpsScope:
    """A key that starts tenant/property (a property, or a stay: tenant/property/reservation)."""
    parts = key.split("/")
    tenant, property_id = key_parts(key, 3 if len(parts) == 3 else 2)[:2]
    return OpsScope(tenant, property_id)


async def tenant_scope(key: str, principal: OpsPrincipal) -> OpsScope:
    """A key that is a tenant id."""
    (tenant,) = key_parts(key, 1)
    return OpsScope(tenant)


async def platform_scope(key: str, principal: OpsPrincipal) -> OpsScope:
    return OpsScope(None)


def ops_view(name: str, scope_of: ScopeOf, *, table: TableT[str, bytes] | None = None, keyed: bool = True,
             action: OpsAction = OpsAction.READ) -> Callable[[OpsHandler[AnyView]], Guarded[AnyView]]:
    """Guard an ops view: ``scope_of(key, principal)`` says which tenant (and property) the key belongs to without
    reading a Faust table; ``table`` routes the request to the worker that owns the key."""

    def decorate(handler: OpsHandler[AnyView]) -> Guarded[AnyView]:
        @functools.wraps(handler)
        async def guarded(web: AnyView, request: Request) -> Response:
            key = request.query.get("key", "") if keyed else ""
            try:
                principal = await asyncio.to_thread(verifier().verify, request.headers.get("Authorization"))
            except TokenRefused as refused:
                await _audit(name, key, None, "refused", refused.reason)
                return web.json({"reason": refused.reason, "detail": str(refused)}, status=401,
                                 headers={"WWW-Authenticate": f'Bearer error="invalid_token", '
                                                              f'error_description="{refused.reason}"'})
            try:
                if keyed and not key:
                    raise KeyRefused("key_missing", "the key query parameter is required")
                scope = await scope_of(key, principal)
            except KeyRefused as refused:
                await _audit(name, key, principal, "refused", refused.reason)
                return web.json({"reason": refused.reason, "detail": str(refused)}, status=400)
            decision = authorize(principal, OpsScope(scope.tenant, scope.property, action))
            if not decision.allowed:
                await _audit(name, key, principal, "refused", decision.reason)
                return web.json({"reason": decision.reason}, status=403)
            if table is not None and (owner := owner_of(table, key)) != here():
                return await forward(web, request, owner)
            await _audit(name, key, principal, "allowed", "allowed")
            return await handler(web, request, OpsRequest(key, principal, decision))

        return guarded

    return decorate


def here() -> URL:
    return URL(str(app.conf.canonical_url))


def owner_of(table: TableT[str, bytes], key: str) -> URL:
    """The advertised URL of the worker holding ``key`` of ``table``. Tables are written on the partition of the
    record being processed, i.e. the partition of the raw key in its topic; Faust's own ``table_route`` hashes the
    changelog's serialised (JSON-quoted) key instead and sends about half the keys to a worker that lacks them."""
    try:
        return URL(str(app.assignor.key_store(table.changelog_topic.get_topic_name(), key.encode())))
    except KeyError as err:  # mid-rebalance: nobody holds the partition yet
        raise ServiceUnavailable() from err


async def forward(web: View, request: Request, owner: URL) -> Response:
    """Ask the owner the same question with the same headers (it verifies the token again) and relay its answer."""
    status, content_type, text = await _ask(owner.with_path(request.url.path), dict(request.query), request)
    return web.text(text, content_type=content_type, status=status)


async def ask_owner(owner: URL, path: str, params: dict[str, str], request: Request) -> dict[str, Any] | None:
    """Another worker's answer to the same caller (its token goes along, so the owner checks and audits it too);
    None unless it answered 200."""
    status, _, text = await _ask(owner.with_path(path), params, request)
    return json.loads(text) if status == 200 else None


async def _ask(url: URL, params: dict[str, str], request: Request) -> tuple[int, str, str]:
    headers = {"Authorization": request.headers.get("Authorization", "")}
    async with app.http_client.get(url, params=params, headers=headers) as got:
        return got.status, got.content_type, await got.text()


PAGE_MAX = 500


def page_of(request: Request) -> tuple[int, int] | None:
    """``offset`` and ``limit`` (1..500, default 100); None when they are not whole numbers in range."""
    try:
        offset, limit = int(request.query.get("offset", 0)), int(request.query.get("limit", 100))
    except ValueError:
        return None
    return (offset, limit) if offset >= 0 and 1 <= limit <= PAGE_MAX else None


def bad_page(web: View) -> Response:
    return web.json({"reason": "bad_page", "detail": f"offset >= 0, 1 <= limit <= {PAGE_MAX}"}, status=400)


async def _audit(view: str, key: str, principal: OpsPrincipal | None, outcome: str, reason: str) -> None:
    OPS_REQUESTS.labels(view, outcome, reason).inc()
    # Refusals go to the platform's tree: a key in a refused request names a tenant nobody proved to belong to.
    tenant = key.split("/")[0] if outcome == "allowed" and "/" in key else PLATFORM
    detail = {"key": key, "role": None if principal is None else str(principal.role),
              "token": None if principal is None else principal.token_id}
    record = AuditRecord(
        record_id=uuid.uuid4().hex, tenant=tenant, region="", actor=_actor(principal),
        action=f"ops.{view}", outcome=outcome, cause=reason, detail=json.dumps(detail, sort_keys=True),
        occurred_at=datetime.now(UTC),
    )
    await publish_acked(lock_audit, record.tenant, record)


def _actor(principal: OpsPrincipal | None) -> str:
    return "ops:anonymous" if principal is None else f"ops:{principal.subject}"
