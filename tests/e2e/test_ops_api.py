"""The ops API against a live worker: every role, view, own or other tenant and token fault gives exactly the expected
status, refusals carry no data of the key's tenant (nor whether the key exists), every request is an audit record,
and two workers answer a key owned by either, through either."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.domain.ops_access import OpsRole
from tests.pipeline import Pipeline, distinct

ROOMS = 4
pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow, pytest.mark.pipeline(rooms=ROOMS)]


def views(tenant: str) -> dict[str, tuple[str, str | None, str | None]]:
    """view -> (path, a key that exists, a key of the same tenant that does not)."""
    return {
        "locks": ("/ops/locks", f"{tenant}/eu-west/door-1", f"{tenant}/eu-west/door-99"),
        "stays": ("/ops/stays", f"{tenant}/p1/R1", f"{tenant}/p1/R99"),
        "master-keys": ("/ops/master-keys", f"{tenant}/p1", f"{tenant}/p1"),
        "properties": ("/ops/properties", f"{tenant}/p1", f"{tenant}/p8"),
        "dead-letters": ("/ops/dead-letters", tenant, tenant),
        "breakers": ("/ops/breakers", None, None),
    }


def principals(pipeline: Pipeline) -> dict[str, dict[str, Any]]:
    tenant = pipeline.tenant
    return {
        "admin": {"role": OpsRole.PLATFORM_ADMIN},
        "operator": {"role": OpsRole.TENANT_OPERATOR, "tenants": [tenant]},
        "read-only": {"role": OpsRole.READ_ONLY, "tenants": [tenant]},
        "operator-of-p1": {"role": OpsRole.TENANT_OPERATOR, "tenants": [tenant], "properties": [f"{tenant}/p1"]},
        "operator-of-p9": {"role": OpsRole.TENANT_OPERATOR, "tenants": [tenant], "properties": [f"{tenant}/p9"]},
        "other-tenant": {"role": OpsRole.TENANT_OPERATOR, "tenants": ["someone-else"]},
        "other-read-only": {"role": OpsRole.READ_ONLY, "tenants": ["someone-else"]},
    }


def expected(who: str, view: str, exists: bool) -> int:
    if view == "breakers":
        return 200  # filtered to the caller's tenants
    if who in ("operator-of-p9", "other-tenant", "other-read-only"):
        return 403  # before any table is read: the same whether the key exists or not
    if who == "operator-of-p1" and (view == "dead-letters" or (not exists and view in ("locks", "properties"))):
        return 403  # a tenant-wide view, a lock in none of its properties or another property
    return 200 if exists or view in ("master-keys", "dead-letters") else 404


def bad_tokens(pipeline: Pipeline) -> dict[str, tuple[str | None, str]]:
    """fault -> (Authorization header, reason code of the 401)."""
    issuer = pipeline.stack.ops_issuer
    kid = json.loads(issuer.jwks_file.read_text())["keys"][0]["kid"]
    now = int(time.time())
    claims = {"iss": "lis-dev", "aud": "lis-ops", "sub": "mallory", "iat": now, "exp": now + 600,
              "lis_role": "platform-admin", "lis_tenants": []}
    forged = jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": kid})
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": kid})
    stranger = jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": "nobody"})
    admin = {"subject": "t", "role": OpsRole.PLATFORM_ADMIN}
    return {
        "missing": (None, "token_missing"),
        "not bearer": ("Basic dXNlcjpwYXNz", "token_malformed"),
        "garbage": ("Bearer not-a-jwt", "token_malformed"),
        "expired": (f"Bearer {issuer.issue(**admin, ttl_s=1, now=now - 3600)}", "token_expired"),
        "not yet valid": (f"Bearer {issuer.issue(**admin, not_before_s=3600)}", "token_not_yet_valid"),
        "wrong audience": (f"Bearer {issuer.issue(**admin, audience='another-api')}", "token_wrong_audience"),
        "forged": (f"Bearer {forged}", "token_bad_signature"),
        "alg none": (f"Bearer {unsigned}", "token_bad_algorithm"),
        "unknown kid": (f"Bearer {stranger}", "token_unknown_key"),
    }


async def issued_keys(pipeline: Pipeline, rooms: range) -> None:
    await pipeline.publish(pipeline.confirmations(rooms))
    issued = await pipeline.read("lock.events", until=lambda rs: len(distinct(rs, "key.issued")) >= len(rooms))
    assert len(distinct(issued, "key.issued")) == len(rooms)


async def test_every_role_view_tenant_and_token_fault_gives_the_expected_status_and_is_audited(
    pipeline: Pipeline,
) -> None:
    await issued_keys(pipeline, range(1, ROOMS + 1))
    tenant, requests = pipeline.tenant, 0
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{pipeline.web_port}", timeout=30) as http:
        for who, claims in principals(pipeline).items():
            token = pipeline.stack.ops_issuer.issue(subject=who, **claims)
            for view, (path, key, absent) in views(tenant).items():
                answers = {}
                for exists, probe in ((True, key), (False, absent)):
                    params = {} if probe is None else {"key": probe}
                    answer = await http.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
                    requests += 1
                    assert answer.status_code == expected(who, view, exists), (who, view, probe, answer.text)
                    answers[exists] = answer.text
                    if answer.status_code == 403:
                        assert tenant not in answer.text
                        assert "door" not in answer.text
                if expected(who, view, True) == 403:
                    assert answers[True] == answers[False], "a refusal must not tell whether the key exists"
                if view == "breakers":
                    states = json.loads(answers[True])
                    assert states == ({} if who.startswith("other") else {f"{tenant}/ttlock": "closed"}), who

        for fault, (header, reason) in bad_tokens(pipeline).items():
            for view, (path, key, _) in views(tenant).items():
                answer = await http.get(path, params={} if key is None else {"key": key},
                                        headers={} if header is None else {"Authorization": header})
                requests += 1
                assert (answer.status_code, answer.json()["reason"]) == (401, reason), (fault, view)
                assert tenant not in answer.text
                assert answer.headers["WWW-Authenticate"].startswith("Bearer")

        admin = pipeline.stack.ops_headers()
        for params, reason in (({}, "key_missing"), ({"key": "no-slashes"}, "key_malformed")):
            answer = await http.get("/ops/locks", params=params, headers=admin)
            requests += 1
            assert (answer.status_code, answer.json()["reason"]) == (400, reason)

        stay = (await http.get("/ops/stays", params={"key": f"{tenant}/p1/R1"}, headers=admin)).json()
        requests += 1
        for faust_view in (f"/table/lock_sagas/{tenant}/eu-west/door-1/", "/table/stays/", "/router/"):
            answer = await http.get(faust_view)  # Faust's own unauthenticated table and router views are off
            assert answer.status_code == 404, (faust_view, answer.text[:200])
    assert stay["status"] == "active"
    assert [(lock["lock"], lock["credential"]["status"]) for lock in stay["locks"]] == [
        (f"{tenant}/eu-west/door-1", "issued")]
    assert "mobile_account" not in json.dumps(stay)

    audit = await pipeline.read("lock.audit", timeout_s=60, until=lambda rs: sum(
        r["action"].startswith("ops.") for r in rs) >= requests)
    ops = [r for r in audit if r["action"].startswith("ops.")]
    assert len(ops) == requests, "every request is one audit record"
    refused = [r for r in ops if r["outcome"] == "refused"]
    assert {r["tenant"] for r in refused} == {"_platform"}
    assert {r["cause"] for r in refused} >= {"tenant_not_allowed", "property_not_allowed", "token_expired",
                                             "token_bad_signature", "key_missing"}
    allowed = [r for r in ops if r["outcome"] == "allowed" and r["action"] == "ops.locks"]
    assert {r["actor"] for r in allowed} >= {"ops:admin", "ops:operator", "ops:read-only", "ops:operator-of-p1"}
    assert all(r["tenant"] == tenant for r in allowed)


@pytest.mark.pipeline(rooms=8)
async def test_two_workers_answer_a_key_owned_by_either_through_either(pipeline: Pipeline) -> None:
    await issued_keys(pipeline, range(1, 9))
    first = pipeline.web_port
    pipeline.start_worker(data_dir="-second")
    second = pipeline.web_port
    keys = [f"{pipeline.tenant}/eu-west/door-{n}" for n in range(1, 9)]
    headers = pipeline.stack.ops_headers(OpsRole.READ_ONLY, pipeline.tenant)
    deadline = time.monotonic() + 120
    async with httpx.AsyncClient(timeout=30, headers=headers) as http:
        while True:
            try:
                answers = {(port, key): await http.get(f"http://127.0.0.1:{port}/ops/locks", params={"key": key})
                           for port in (first, second) for key in keys}
            except httpx.TransportError:  # the second worker's web server is not up yet
                answers = {}
            owners = {answer.json().get("worker") for answer in answers.values() if answer.status_code == 200}
            settled = bool(answers) and all(a.status_code == 200 for a in answers.values()) and len(owners) == 2
            if settled or time.monotonic() > deadline:
                break
            await asyncio.sleep(1)  # the second worker joins: a rebalance, then both own partitions
    assert settled, sorted((k[1][-6:], k[0], a.status_code, a.json().get("worker")) for k, a in answers.items())
    assert owners == {f"http://127.0.0.1:{first}", f"http://127.0.0.1:{second}"}
    for key in keys:
        through_first, through_second = answers[(first, key)].json(), answers[(second, key)].json()
        assert through_first == through_second, key
        (record,) = through_first["credentials"].values()
        assert record["status"] == "issued"
    async with httpx.AsyncClient(timeout=30, headers=headers) as http:
        for port in (first, second):  # a stay's locks live on other partitions: each is asked of its owner
            for n in range(1, 9):
                stay = (await http.get(f"http://127.0.0.1:{port}/ops/stays",
                                       params={"key": f"{pipeline.tenant}/p1/R{n}"})).json()
                assert [lock["credential"]["status"] for lock in stay["locks"]] == ["issued"], (port, n, stay)
            summary = (await http.get(f"http://127.0.0.1:{port}/ops/properties",
                                      params={"key": f"{pipeline.tenant}/p1"})).json()
            assert (summary["lock_count"], summary["credentials"]) == (8, {"issued": 8}), "gathered from both"


async def test_the_property_summary_and_the_tenants_dead_letters_with_replay_for_admins_only(
    pipeline: Pipeline,
) -> None:
    await issued_keys(pipeline, range(1, ROOMS + 1))
    tenant = pipeline.tenant
    await pipeline.publish([(f"{tenant}/p1/broken", b"{not json"), ("someone-else/p1/broken", b"{not json")])
    await pipeline.read("lock.dlq", until=lambda rs: len(rs) >= 2)
    operator = pipeline.stack.ops_headers(OpsRole.TENANT_OPERATOR, tenant)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{pipeline.web_port}", timeout=30) as http:
        summary = (await http.get("/ops/properties", params={"key": f"{tenant}/p1", "limit": 3},
                                  headers=operator)).json()
        letters = (await http.get("/ops/dead-letters", params={"key": tenant}, headers=operator)).json()
        refused = await http.post("/ops/dead-letters", params={"key": tenant, "position": "0:0"}, headers=operator)
        (letter,) = letters["letters"]
        replayed = await http.post("/ops/dead-letters", params={"key": tenant, "position": letter["position"]},
                                   headers=pipeline.stack.ops_headers())
    assert (summary["lock_count"], summary["by_vendor"], summary["credentials"]) == (ROOMS, {"ttlock": ROOMS},
                                                                                     {"issued": ROOMS})
    assert (summary["live_credentials"], summary["in_flight"], summary["failed"]) == (ROOMS, [], [])
    assert [row["lock_id"] for row in summary["locks"]] == ["door-1", "door-2", "door-3"], "a page of 3"
    assert all([c["status"] for c in row["credentials"]] == ["issued"] for row in summary["locks"])
    assert [d["key"] for d in summary["dead_letters"]] == [f"{tenant}/p1/broken"]
    assert summary["master_keys"] == {"current_shift": None, "shift": None}
    assert (letters["total"], letter["key"], letter["replayable"]) == (1, f"{tenant}/p1/broken", True)
    assert "value" not in letter, "the view never shows a letter's value (it can hold guest fields)"
    assert (refused.status_code, refused.json()["reason"]) == (403, "role_not_allowed")
    assert (replayed.status_code, replayed.json()["replayed"]) == (200, 1)
    again = await pipeline.read("lock.dlq", until=lambda rs: len(rs) >= 3)
    assert [d["key"] for d in again].count(f"{tenant}/p1/broken") == 2, "replayed onto pms.reservations, refused again"
