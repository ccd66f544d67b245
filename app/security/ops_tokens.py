"""Bearer tokens of the ops API: JWTs signed with EdDSA or ES256, verified against a JWKS (a file, re-read when it
changes, or an OIDC provider's ``jwks_uri``), keys chosen by ``kid``, with ``exp``/``nbf`` and a small clock-skew
allowance. Verification is PyJWT's; this module maps its errors to the 401 reason codes the ops API answers with.

Claims beyond the registered ones: ``lis_role`` (an :class:`~app.domain.ops_access.OpsRole`), ``lis_tenants`` (a list
of tenant ids) and ``lis_properties`` (``tenant/property`` ids; absent or empty: every property of its tenants).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import jwt

from app.domain.ops_access import OpsPrincipal, OpsRole

ALGORITHMS = ("EdDSA", "ES256")
_ERRORS: tuple[tuple[type[Exception], str], ...] = (
    (jwt.ExpiredSignatureError, "token_expired"),
    (jwt.ImmatureSignatureError, "token_not_yet_valid"),
    (jwt.InvalidAudienceError, "token_wrong_audience"),
    (jwt.InvalidIssuerError, "token_wrong_issuer"),
    (jwt.MissingRequiredClaimError, "token_bad_claims"),
    (jwt.InvalidSignatureError, "token_bad_signature"),
    (jwt.InvalidKeyError, "token_bad_signature"),
)


class TokenRefused(Exception):
    """A request's token is missing or not acceptable; ``reason`` is the code of the 401."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


class SigningKeys(Protocol):
    def key(self, kid: str) -> jwt.PyJWK | None:
        """The public key of ``kid``, or None when the set has none of that id."""
        ...


class JwksFile:
    """A JWKS document on disk, read again whenever the file changes (a rotation needs no restart)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: tuple[int, int] | None = None
        self._keys: dict[str, jwt.PyJWK] = {}

    def key(self, kid: str) -> jwt.PyJWK | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        if self._seen != (stat.st_mtime_ns, stat.st_size):
            self._keys = keys_by_id(json.loads(self.path.read_text()))
            self._seen = (stat.st_mtime_ns, stat.st_size)
        return self._keys.get(kid)


class JwksUrl:
    """An identity provider's ``jwks_uri``, cached by PyJWT's client and fetched again for an unknown ``kid``."""

    def __init__(self, url: str) -> None:
        self._client = jwt.PyJWKClient(url, cache_keys=True, lifespan=300, timeout=5)

    def key(self, kid: str) -> jwt.PyJWK | None:
        try:
            return self._client.get_signing_key(kid)
        except jwt.PyJWKClientError:
            return None


def keys_by_id(document: dict[str, Any]) -> dict[str, jwt.PyJWK]:
    """The signing keys of a JWKS document by ``kid``; keys without a ``kid`` or of other algorithms are left out."""
    found = {}
    for entry in document.get("keys", []):
        if entry.get("kid") and entry.get("use", "sig") == "sig":
            key = jwt.PyJWK.from_dict(entry)
            if key.algorithm_name in ALGORITHMS:
                found[entry["kid"]] = key
    return found


def signing_keys(source: str) -> SigningKeys:
    """The key set a setting names: an ``https://`` (or ``http://``) URL, or a file path."""
    return JwksUrl(source) if source.startswith(("https://", "http://")) else JwksFile(Path(source))


@dataclass(frozen=True)
class TokenPolicy:
    issuer: str
    audience: str
    leeway_s: float = 30.0


class TokenVerifier:
    def __init__(self, policy: TokenPolicy, keys: SigningKeys) -> None:
        self.policy = policy
        self.keys = keys

    def verify(self, authorization: str | None) -> OpsPrincipal:
        """The principal an ``Authorization: Bearer …`` header proves; :class:`TokenRefused` otherwise."""
        if not authorization:
            raise TokenRefused("token_missing", "send Authorization: Bearer <token>")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise TokenRefused("token_malformed", "the Authorization header is not a bearer token")
        try:
            header = jwt.get_unverified_header(token.strip())
        except jwt.DecodeError as err:
            raise TokenRefused("token_malformed", str(err)) from err
        if header.get("alg") not in ALGORITHMS:
            raise TokenRefused("token_bad_algorithm", f"alg must be one of {', '.join(ALGORITHMS)}")
        key = self.keys.key(str(header.get("kid", "")))
        if key is None or key.algorithm_name != header["alg"]:
            raise TokenRefused("token_unknown_key", "no key of that kid and alg in the JWKS")
        return principal_of(self._claims(token.strip(), key))

    def _claims(self, token: str, key: jwt.PyJWK) -> dict[str, Any]:
        try:
            return jwt.decode(token, key.key, algorithms=[key.algorithm_name], audience=self.policy.audience,
                              issuer=self.policy.issuer, leeway=self.policy.leeway_s,
                              options={"require": ["exp", "iat", "iss", "aud", "sub"]})
        except jwt.PyJWTError as err:
            reason = next((code for kind, code in _ERRORS if isinstance(err, kind)), "token_malformed")
            raise TokenRefused(reason, str(err)) from err


def principal_of(claims: dict[str, Any]) -> OpsPrincipal:
    """The principal of verified claims; ``token_bad_claims`` when the role or the scope is not well formed."""
    try:
        role = OpsRole(str(claims.get("lis_role")))
    except ValueError as err:
        raise TokenRefused("token_bad_claims", f"lis_role must be one of {', '.join(OpsRole)}") from err
    tenants, properties = claims.get("lis_tenants", []), claims.get("lis_properties", [])
    if not _strings(tenants) or not _strings(properties):
        raise TokenRefused("token_bad_claims", "lis_tenants and lis_properties must be lists of strings")
    if role is not OpsRole.PLATFORM_ADMIN and not tenants:
        raise TokenRefused("token_bad_claims", f"a {role} token names its tenants in lis_tenants")
    if any(p.split("/", 1)[0] not in tenants for p in properties):
        raise TokenRefused("token_bad_claims", "every lis_properties entry is tenant/property of a listed tenant")
    return OpsPrincipal(subject=str(claims["sub"]), role=role, tenants=frozenset(tenants),
                        properties=frozenset(properties), token_id=str(claims.get("jti", "")))


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) and item for item in value)
