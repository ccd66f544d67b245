"""The ingress's OpenAPI 3.1 contract: valid for openapi-spec-validator, and in step with the routes and reason codes
the code really has."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from app.ingress.guards import IngressSettings
from app.ingress.server import OPENAPI, create_app
from app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [*(ROOT / "app/ingress").glob("*.py"), ROOT / "app/security/webhook_signature.py"]
# Every way the code names a refusal reason: Refusal(status, "reason", ...), unavailable("reason", ...) and the
# signature check's SignatureRejected("reason", ...).
_REASON = re.compile(r'(?:Refusal\(\d{3},\s*|unavailable\(|SignatureRejected\()\s*"([a-z_]+)"')


def spec() -> dict[str, object]:
    loaded: dict[str, object] = yaml.safe_load(OPENAPI.read_text())
    return loaded


def test_the_contract_is_a_valid_openapi_3_1_document() -> None:
    document, _ = read_from_filename(str(OPENAPI))
    validate(document)
    assert spec()["openapi"] == "3.1.0"


def test_every_route_of_the_ingress_is_in_the_contract_and_nothing_else() -> None:
    app = create_app(IngressSettings(), Settings())
    served = {(route.method, route.resource.canonical) for route in app.router.routes()
              if route.resource is not None and route.method != "HEAD"}
    paths = spec()["paths"]
    assert isinstance(paths, dict)
    documented = {(method.upper(), path) for path, operations in paths.items() for method in operations}
    assert served == documented


def test_every_reason_code_the_ingress_can_answer_is_documented() -> None:
    used = {reason for source in SOURCES for reason in _REASON.findall(source.read_text())}
    components = spec()["components"]
    assert isinstance(components, dict)
    documented = set(components["schemas"]["Refusal"]["properties"]["reason"]["enum"])
    assert len(used) >= 15, "the pattern no longer finds the reasons: this test would prove nothing"
    assert used <= documented, f"undocumented reasons: {sorted(used - documented)}"
