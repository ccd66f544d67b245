"""Ops API tokens: PyJWT's verification mapped to the 401 reason codes, keys chosen by kid from a JWKS file that is
re-read when it changes, or from a jwks_uri over HTTP; and the claims that make a principal."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from app.domain.ops_access import OpsRole
from app.security.ops_dev_keys import DevTokenIssuer
from app.security.ops_tokens import JwksFile, TokenPolicy, TokenRefused, TokenVerifier, principal_of, signing_keys

POLICY = TokenPolicy(issuer="lis-dev", audience="lis-ops", leeway_s=30)


@pytest.fixture
def issuer(tmp_path: Path) -> DevTokenIssuer:
    return DevTokenIssuer(tmp_path / "ops", issuer="lis-dev", audience="lis-ops")


@pytest.fixture
def verifier(issuer: DevTokenIssuer) -> TokenVerifier:
    return TokenVerifier(POLICY, JwksFile(issuer.jwks_file))


def refusal(verifier: TokenVerifier, header: str | None) -> str:
    with pytest.raises(TokenRefused) as refused:
        verifier.verify(header)
    return refused.value.reason


def test_a_token_of_the_local_issuer_gives_its_principal(issuer: DevTokenIssuer, verifier: TokenVerifier) -> None:
    token = issuer.issue(subject="ana", role=OpsRole.TENANT_OPERATOR, tenants=["t1"], properties=["t1/p1"])
    principal = verifier.verify(f"Bearer {token}")
    assert (principal.subject, principal.role, principal.tenants, principal.properties) == (
        "ana", OpsRole.TENANT_OPERATOR, frozenset({"t1"}), frozenset({"t1/p1"}))


def test_the_signing_key_file_is_private_and_the_jwks_holds_only_public_keys(issuer: DevTokenIssuer) -> None:
    assert issuer.key_file.stat().st_mode & 0o777 == 0o600
    (key,) = json.loads(issuer.jwks_file.read_text())["keys"]
    assert set(key) == {"kty", "crv", "x", "kid", "alg", "use"}, "no private member (d) in the JWKS"


def test_within_the_clock_skew_allowance_a_token_is_accepted_beyond_it_refused(
    issuer: DevTokenIssuer, verifier: TokenVerifier,
) -> None:
    admin = {"subject": "a", "role": OpsRole.PLATFORM_ADMIN}
    assert verifier.verify(f"Bearer {issuer.issue(**admin, ttl_s=60, now=time.time() - 80)}")  # expired 20 s ago
    assert refusal(verifier, f"Bearer {issuer.issue(**admin, ttl_s=60, now=time.time() - 100)}") == "token_expired"
    assert verifier.verify(f"Bearer {issuer.issue(**admin, not_before_s=20)}")
    assert refusal(verifier, f"Bearer {issuer.issue(**admin, not_before_s=60)}") == "token_not_yet_valid"


def test_each_kind_of_bad_token_has_its_reason(issuer: DevTokenIssuer, verifier: TokenVerifier) -> None:
    token = issuer.issue(subject="a", role=OpsRole.PLATFORM_ADMIN)
    header, payload, signature = token.split(".")
    tampered = f"{header}.{payload[:-2]}AA.{signature}"
    assert refusal(verifier, None) == "token_missing"
    assert refusal(verifier, f"Token {token}") == "token_malformed"
    assert refusal(verifier, "Bearer   ") == "token_malformed"
    assert refusal(verifier, f"Bearer {tampered}") in ("token_bad_signature", "token_malformed")
    assert refusal(verifier, f"Bearer {issuer.issue(subject='a', role=OpsRole.PLATFORM_ADMIN, audience='x')}") \
        == "token_wrong_audience"
    other = DevTokenIssuer(issuer.folder, issuer="someone-else", audience="lis-ops")
    assert refusal(verifier, f"Bearer {other.issue(subject='a', role=OpsRole.PLATFORM_ADMIN)}") == "token_wrong_issuer"
    hs256 = jwt.encode({"sub": "a"}, "secret-long-enough-for-hmac-sha256-key", algorithm="HS256")
    assert refusal(verifier, f"Bearer {hs256}") == "token_bad_algorithm", "no HMAC: no key confusion with the JWKS"


def test_a_rotated_key_verifies_new_tokens_and_old_ones_until_they_expire(
    issuer: DevTokenIssuer, verifier: TokenVerifier,
) -> None:
    before = issuer.issue(subject="old", role=OpsRole.PLATFORM_ADMIN)
    assert verifier.verify(f"Bearer {before}").subject == "old"
    issuer.rotate()
    after = issuer.issue(subject="new", role=OpsRole.PLATFORM_ADMIN)
    assert jwt.get_unverified_header(after)["kid"] != jwt.get_unverified_header(before)["kid"]
    assert verifier.verify(f"Bearer {after}").subject == "new", "the changed JWKS file is read again"
    assert verifier.verify(f"Bearer {before}").subject == "old"
    for _ in range(3):
        issuer.rotate()
    assert refusal(verifier, f"Bearer {before}") == "token_unknown_key", "a key rotated out no longer verifies"


@pytest.mark.parametrize(("claims", "problem"), [
    ({"lis_role": "root"}, "lis_role"),
    ({"lis_role": "tenant-operator"}, "names its tenants"),
    ({"lis_role": "read-only", "lis_tenants": "t1"}, "lists of strings"),
    ({"lis_role": "read-only", "lis_tenants": ["t1"], "lis_properties": ["t2/p1"]}, "of a listed tenant"),
])
def test_claims_that_do_not_make_a_principal_are_refused(claims: dict[str, object], problem: str) -> None:
    with pytest.raises(TokenRefused, match=problem) as refused:
        principal_of({"sub": "a", **claims})
    assert refused.value.reason == "token_bad_claims"


@pytest.fixture
def jwks_server() -> Iterator[tuple[str, ec.EllipticCurvePrivateKey]]:
    """An identity provider's jwks_uri on 127.0.0.1, with one ES256 key."""
    key = ec.generate_private_key(ec.SECP256R1())
    document = {"keys": [{**json.loads(ECAlgorithm.to_jwk(key.public_key())), "kid": "idp-1", "use": "sig"}]}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(document).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json", key
    server.shutdown()


def test_an_identity_providers_es256_tokens_verify_against_its_jwks_uri(
    jwks_server: tuple[str, ec.EllipticCurvePrivateKey],
) -> None:
    url, key = jwks_server
    verifier = TokenVerifier(POLICY, signing_keys(url))
    now = int(time.time())
    claims = {"iss": "lis-dev", "aud": "lis-ops", "sub": "sre@hotel.example", "iat": now, "exp": now + 300,
              "lis_role": "platform-admin"}
    token = jwt.encode(claims, key, algorithm="ES256", headers={"kid": "idp-1"})
    assert verifier.verify(f"Bearer {token}").subject == "sre@hotel.example"
    stranger = jwt.encode(claims, key, algorithm="ES256", headers={"kid": "idp-2"})
    assert refusal(verifier, f"Bearer {stranger}") == "token_unknown_key"
