"""Authenticating webhooks at the ingress: Standard Webhooks signatures, or a tenant's path secret (unsigned formats).

The body is verified as raw bytes before any vendor format reads it (:mod:`adapters.standard_webhooks`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from app.ingress.guards import Refusal, unavailable
from app.security.envelope import KeyStore
from app.security.pseudonym import webhook_ref
from app.security.webhook_signature import EndpointSecrets, SignatureRejected, SignedMessage, same_secret, verify


def authenticate(secrets: EndpointSecrets, headers: Mapping[str, str], body: bytes, now: datetime) -> SignedMessage:
    """The verified message id and timestamp; 401 with the signature check's reason code otherwise."""
    try:
        keys = secrets.keys(now)
    except ValueError as err:
        raise unavailable("secret_unreadable", "a stored secret of this endpoint is not a whsec_ secret") from err
    if not keys:
        raise Refusal(401, "no_current_secret", "every secret of this endpoint has expired")
    lowered = {name.lower(): value for name, value in headers.items()}
    try:
        return verify(keys, lowered, body, now=now.timestamp())
    except SignatureRejected as err:
        raise Refusal(401, err.reason, str(err)) from err


def authenticate_path(secrets: EndpointSecrets, offered: str | None) -> None:
    """Refuse (401) unless the callback path carries the tenant's path secret (compared in constant time)."""
    expected = secrets.path_secret.get_secret_value() if secrets.path_secret else None
    if offered is None or expected is None or not same_secret(offered, expected):
        raise Refusal(401, "bad_path_secret", "the callback path does not carry this tenant's secret")


def unsigned_webhook_id(keys: KeyStore, tenant: str, vendor: str, identity: str) -> str:
    """The id of an unsigned webhook (it carries none): the same identity always gives the same id (the replay key).
    Keyed with the tenant's webhook-id key: a TTLock callback's identity includes the passcode typed, which a plain
    hash would give away to a brute force over a million PINs."""
    return f"{vendor}-" + webhook_ref(keys, tenant, identity)
