"""Worker-wide ops views on the Faust web server: Prometheus metrics, the circuit breakers, and a lock's saga."""

from __future__ import annotations

from faust.web import Request, Response, View
from prometheus_client import generate_latest

from app.runtime import runtime
from app.streams import app
from tables.sagas import lock_sagas


@app.page("/metrics")
async def metrics_view(web: View, request: Request) -> Response:
    """Prometheus exposition of this worker's metrics."""
    # aiohttp refuses a charset inside content_type, and Prometheus reads plain text exposition as version 0.0.4.
    return web.bytes(generate_latest(), content_type="text/plain")


@app.page("/breakers/")
async def breakers_view(web: View, request: Request) -> Response:
    """``{"tenant/vendor": "closed" | "open" | "half_open"}`` for every breaker this worker has used."""
    return web.json((await runtime()).caller.breaker_states())


@app.page("/lock-sagas/")
@app.table_route(table=lock_sagas, query_param="key")
async def lock_saga_view(web: View, request: Request) -> Response:
    """``GET /lock-sagas/?key=tenant/region/lock``: every credential record of the lock (no secrets are kept)."""
    raw: bytes | None = lock_sagas.get(request.query["key"])
    return web.bytes(raw or b"null", content_type="application/json")
