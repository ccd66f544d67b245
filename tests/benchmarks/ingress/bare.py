"""The comparison point of the ingress benchmark: a bare aiohttp handler on the same route that reads the body and
answers 202, with no verification, database or broker. ``python -m tests.benchmarks.ingress.bare --port N``."""

from __future__ import annotations

import argparse

from aiohttp import web


async def accept(request: web.Request) -> web.Response:
    """Read the body once, as the ingress does, and accept it."""
    await request.read()
    return web.json_response({"status": "accepted", "webhook_id": request.headers.get("webhook-id", "")},
                             status=202)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = web.Application()
    app.router.add_post("/webhooks/{vendor}/{tenant}", accept)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
