"""Pseudonymous references for guests and per-credential PINs, derived with keys that never leave the service."""

from __future__ import annotations

import hashlib
import hmac

from app.security.envelope import KeyStore


def guest_ref(keys: KeyStore, tenant: str, guest_id: str) -> str:
    """A stable pseudonym for a PMS guest id: the same guest maps to the same reference within a tenant only."""
    digest = hmac.new(keys.tenant_kek(tenant), b"guest|" + guest_id.encode(), hashlib.sha256).hexdigest()
    return "g_" + digest[:24]


def passcode_for(keys: KeyStore, tenant: str, idempotency_key: str, attempt: int = 0, digits: int = 6) -> str:
    """The PIN of one credential: reproducible after a crash (no PIN is stored in clear), unguessable without the
    tenant key, and different for each ``attempt`` when the lock already holds the same code."""
    message = f"pin|{idempotency_key}|{attempt}".encode()
    number = int.from_bytes(hmac.new(keys.tenant_kek(tenant), message, hashlib.sha256).digest()[:8], "big")
    return str(number % 10**digits).zfill(digits)
