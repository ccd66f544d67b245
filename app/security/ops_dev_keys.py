"""A local token issuer for dev and tests (``lis ops token issue``), standing in for the hotel group's OIDC provider.

Its folder holds the Ed25519 signing key (``signing-key.pem``, mode 0600) and the public ``jwks.json`` the workers
verify against. ``rotate`` makes a new key and keeps the previous public key in the JWKS, so tokens signed before the
rotation verify until they expire; ``kid`` is the key's RFC 7638 thumbprint.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
import uuid
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from app.domain.ops_access import OpsRole

KEEP_PREVIOUS_KEYS = 2


class DevTokenIssuer:
    def __init__(self, folder: Path, *, issuer: str, audience: str) -> None:
        self.folder = folder
        self.issuer = issuer
        self.audience = audience
        if not self.key_file.exists():
            self.rotate()

    @property
    def key_file(self) -> Path:
        return self.folder / "signing-key.pem"

    @property
    def jwks_file(self) -> Path:
        return self.folder / "jwks.json"

    def rotate(self) -> str:
        """Make a new signing key; the JWKS keeps it and the previous ones' public halves. Returns the new kid."""
        key = Ed25519PrivateKey.generate()
        public = json.loads(OKPAlgorithm.to_jwk(key.public_key()))
        kid = _thumbprint(public)
        older = json.loads(self.jwks_file.read_text())["keys"] if self.jwks_file.exists() else []
        self.folder.mkdir(parents=True, exist_ok=True)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        descriptor = os.open(self.key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(pem)
        keys = [{**public, "kid": kid, "alg": "EdDSA", "use": "sig"}, *older[:KEEP_PREVIOUS_KEYS]]
        self.jwks_file.write_text(json.dumps({"keys": keys}, indent=2) + "\n")
        return kid

    def issue(self, *, subject: str, role: OpsRole, tenants: list[str] | None = None,
              properties: list[str] | None = None, ttl_s: int = 3600, not_before_s: int = 0,
              audience: str | None = None, now: float | None = None) -> str:
        """A signed token; ``not_before_s`` and ``audience`` exist so tests can make the wrong ones."""
        issued = int(time.time() if now is None else now)
        claims = {"iss": self.issuer, "aud": audience or self.audience, "sub": subject, "iat": issued,
                  "nbf": issued + not_before_s, "exp": issued + ttl_s, "jti": uuid.uuid4().hex,
                  "lis_role": str(role), "lis_tenants": tenants or [], "lis_properties": properties or []}
        key = serialization.load_pem_private_key(self.key_file.read_bytes(), password=None)
        kid = json.loads(self.jwks_file.read_text())["keys"][0]["kid"]
        return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": kid})  # type: ignore[arg-type]


def _thumbprint(public: dict[str, str]) -> str:
    members = json.dumps({k: public[k] for k in ("crv", "kty", "x")}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(members.encode()).digest()).rstrip(b"=").decode()
