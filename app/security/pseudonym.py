"""Pseudonymous references for guests and per-credential PINs, derived with keys that never leave the service."""

from __future__ import annotations

import hashlib
import hmac

from app.security.envelope import KeyPurpose, KeyStore


def guest_ref(keys: KeyStore, tenant: str, guest_id: str) -> str:
    """A stable pseudonym for a PMS guest id: the same guest maps to the same reference within a tenant only."""
    key = keys.purpose_key(tenant, KeyPurpose.GUEST_PSEUDONYM)
    digest = hmac.new(key, b"guest|" + guest_id.encode(), hashlib.sha256).hexdigest()
    return "g_" + digest[:24]


def passcode_for(keys: KeyStore, tenant: str, idempotency_key: str, attempt: int = 0, digits: int = 6) -> str:
    """The PIN of one credential: reproducible after a crash (no PIN is stored in clear), unguessable without the
    tenant key, and different for each ``attempt`` when the lock already holds the same code."""
    message = f"pin|{idempotency_key}|{attempt}".encode()
    key = keys.purpose_key(tenant, KeyPurpose.PIN)
    number = int.from_bytes(hmac.new(key, message, hashlib.sha256).digest()[:8], "big")
    return str(number % 10**digits).zfill(digits)


def webhook_ref(keys: KeyStore, tenant: str, identity: str) -> str:
    """A replay id for an unsigned callback: a keyed HMAC, so it reveals nothing of what it covers (a PIN typed on
    the keypad, say) to whoever reads the id on ``vendor.webhooks`` or in ``webhook_receipts``."""
    key = keys.purpose_key(tenant, KeyPurpose.WEBHOOK_ID)
    return hmac.new(key, identity.encode(), hashlib.sha256).hexdigest()[:40]
