"""The Salto Space HTTP session: OAuth2 client-credentials token, JSON envelope, status translation.

``POST /connect/token`` on the identity server with HTTP Basic (client id and secret) and
``grant_type=client_credentials`` yields a bearer token; every ``/api/v1/`` call carries it. A token Salto refuses
(401) is renewed once and the call retried, so a token expiring mid-run costs one extra round trip, not a failure.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, SecretStr

from adapters.salto import errors
from app.domain.errors import LockError, Unauthorized

_REFRESH_MARGIN_S = 30.0  # renew a token this long before Salto would expire it


class SaltoConfig(BaseModel):
    """One Salto Space API client (client-credentials grant) and the site it manages."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str
    identity_url: str | None = None  # the identity server; None: the API host serves /connect/token too
    client_id: str
    client_secret: SecretStr
    site_timezone: str = "Europe/Berlin"  # Salto writes validity as the site's wall-clock time
    encoder_id: str | None = None  # the encoder physical keys (cards) are written on
    timeout_s: float = 5.0


class SaltoSession:
    """Authenticated JSON calls to one Salto Space installation."""

    def __init__(
        self, config: SaltoConfig, *, http: httpx.AsyncClient | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self._config = config
        self._api = config.base_url.rstrip("/")
        self._identity = (config.identity_url or config.base_url).rstrip("/")
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient(timeout=config.timeout_s)
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self._token_lock = asyncio.Lock()  # one token request at a time, however many calls are waiting

    async def call(
        self, method: str, path: str, *, body: dict[str, Any] | None = None, params: dict[str, Any] | None = None
    ) -> Any:
        """One ``/api/v1`` call; the envelope's ``data``, or the canonical error. A refused token is renewed once."""
        token = await self._bearer()
        try:
            return await self._send(method, path, token, body, params)
        except Unauthorized as err:
            if err.vendor_code != "http_401":
                raise
            token = await self._bearer(stale=token)
            return await self._send(method, path, token, body, params)

    async def aclose(self) -> None:
        """Close the HTTP client if this session created it."""
        if self._owns_http:
            await self._http.aclose()

    async def _bearer(self, *, stale: str | None = None) -> str:
        """A valid token. ``stale`` is one Salto refused: replace it unless another call already has."""
        async with self._token_lock:
            current = self._token
            if current is not None and current != stale and self._clock() < self._expires_at - _REFRESH_MARGIN_S:
                return current
            secret = self._config.client_secret.get_secret_value()
            response = await self._request(
                "POST",
                self._identity + "/connect/token",
                data={"grant_type": "client_credentials"},
                auth=httpx.BasicAuth(self._config.client_id, secret),
            )
            if response.status_code != 200:
                error, cause = self._refusal(response)
                raise error from cause
            answer = self._json(response)
            try:
                self._token = str(answer["access_token"])
                self._expires_at = self._clock() + float(answer["expires_in"])
            except (KeyError, TypeError, ValueError) as err:
                raise errors.malformed_body("token answer without access_token/expires_in") from err
            return self._token

    async def _send(
        self, method: str, path: str, token: str, body: dict[str, Any] | None, params: dict[str, Any] | None
    ) -> Any:
        response = await self._request(
            method, self._api + path, json=body, params=params, headers={"Authorization": f"Bearer {token}"}
        )
        if not 200 <= response.status_code < 300:
            error, cause = self._refusal(response)
            raise error from cause
        envelope = self._json(response)
        if envelope.get("success") is not True:
            raise errors.malformed_body(f"success={envelope.get('success')!r}") from errors.SaltoAnswer(
                str(envelope.get("message", "")), status=response.status_code
            )
        return envelope.get("data")

    async def _request(self, method: str, url: str, **options: Any) -> httpx.Response:
        try:
            return await self._http.request(method, url, timeout=self._config.timeout_s, **options)
        except httpx.HTTPError as err:
            raise errors.from_transport(err) from err

    def _refusal(self, response: httpx.Response) -> tuple[LockError, errors.SaltoAnswer]:
        """The canonical error for a non-2xx answer, and what Salto said, to chain as its cause."""
        try:
            body = response.json()
            message = str(body.get("message") or body.get("error") or "") if isinstance(body, dict) else ""
        except (json.JSONDecodeError, UnicodeDecodeError):
            message = response.text[:80]
        now = datetime.fromtimestamp(self._clock(), UTC)
        retry_after = errors.parse_retry_after(response.headers.get("Retry-After"), now)
        error = errors.from_status(response.status_code, message, retry_after=retry_after)
        return error, errors.SaltoAnswer(message, status=response.status_code)

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise errors.malformed_body(repr(response.text[:80])) from err
        if not isinstance(body, dict):
            raise errors.malformed_body(type(body).__name__) from errors.SaltoAnswer(repr(body)[:80], status=200)
        return body
