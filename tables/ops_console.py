"""The ops console: a server-rendered page and one small ES module (``tables/console/``) on the worker's web port,
over the ops API. The page itself holds no data and needs no token; every figure it shows comes from the ops API
with the signed-in token, so a token sees in the console exactly what it may read through the API.
"""

from __future__ import annotations

from pathlib import Path

from faust.web import Request, Response, View

from app.streams import app

ASSETS = Path(__file__).with_name("console")
TYPES = {"index.html": "text/html", "console.js": "text/javascript", "console.css": "text/css"}
# Only the page's own script and styles run; no inline script, no other origin, no framing.
POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
          "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")


def asset(web: View, name: str) -> Response:
    return web.bytes((ASSETS / name).read_bytes(), content_type=TYPES[name],
                     headers={"Content-Security-Policy": POLICY, "X-Content-Type-Options": "nosniff",
                              "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


@app.page("/ops/console")
async def console_page(web: View, request: Request) -> Response:
    """``GET /ops/console``: sign in with a token, pick a property, see its locks, credentials and shift."""
    return asset(web, "index.html")


@app.page("/ops/console/console.js")
async def console_script(web: View, request: Request) -> Response:
    return asset(web, "console.js")


@app.page("/ops/console/console.css")
async def console_styles(web: View, request: Request) -> Response:
    return asset(web, "console.css")
