"""``lis sandbox <vendor> --fault …``: fault specs parsed once for every sandbox, and armed in a running sandbox."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
import typer

from adapters.dev_sandbox import faults_of
from adapters.salto.sandbox_state import FAULT_MODES as SALTO_MODES
from adapters.sandbox_faults import Faults, FaultSeed, parse_fault
from app.infra.ports import free_port, wait_for_port


@pytest.mark.parametrize(
    ("spec", "fault"),
    [
        ("rate_limit", FaultSeed(mode="rate_limit")),
        ("rate_limit:0.2", FaultSeed(mode="rate_limit", rate=0.2)),
        ("latency:1:ms=300", FaultSeed(mode="latency", rate=1.0, latency_ms=300)),
        ("http_5xx:0.5:count=10", FaultSeed(mode="http_5xx", rate=0.5, count=10)),
    ],
)
def test_a_fault_spec_names_mode_rate_count_and_latency(spec: str, fault: FaultSeed) -> None:
    assert parse_fault(spec) == fault


@pytest.mark.parametrize("spec", ["rate_limit:2", "rate_limit:x", "latency:1:wait=3", "http_5xx:1:count=0"])
def test_a_malformed_fault_spec_is_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="fault"):
        parse_fault(spec)


def test_a_mode_the_sandbox_cannot_produce_is_a_bad_parameter() -> None:
    assert faults_of(["gateway_busy:0.1"], SALTO_MODES) == [FaultSeed(mode="gateway_busy", rate=0.1)]
    with pytest.raises(typer.BadParameter, match="no_card"):
        faults_of(["no_card"], SALTO_MODES)


def test_a_counted_fault_hits_that_many_eligible_calls_then_disarms() -> None:
    faults = Faults({"gateway_busy": "POST /gw".__eq__}, seed=1)
    faults.set("gateway_busy", count=2)

    drawn = [faults.draw(route) for route in ["GET /x", "POST /gw", "POST /gw", "POST /gw"]]

    assert [d.mode if d else None for d in drawn] == [None, "gateway_busy", "gateway_busy", None]
    assert faults.active() == []
    assert faults.fired == {"gateway_busy": 2}


@pytest.fixture
def sandbox_process(request: pytest.FixtureRequest) -> Iterator[str]:
    """``lis sandbox <args>`` as a child process on a free port; its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "sandbox", *request.param, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, 20, what="sandbox")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize("sandbox_process", [["salto", "--fault", "rate_limit:1:count=1"]], indirect=True)
def test_lis_sandbox_salto_arms_the_fault_from_the_command_line(sandbox_process: str) -> None:
    token = {"grant_type": "client_credentials"}
    first = httpx.post(f"{sandbox_process}/connect/token", data=token, auth=("nobody", "x"))
    second = httpx.post(f"{sandbox_process}/connect/token", data=token, auth=("nobody", "x"))

    assert (first.status_code, first.headers["Retry-After"]) == (429, "1")
    assert second.status_code == 401  # the one counted fault is spent: the real refusal of an unknown client


@pytest.mark.parametrize("sandbox_process", [["ttlock", "--fault", "rate_limit:1:count=1"]], indirect=True)
def test_lis_sandbox_ttlock_arms_the_fault_from_the_command_line(sandbox_process: str) -> None:
    form = {"clientId": "nobody", "clientSecret": "x", "username": "u", "password": "0" * 32}
    first = httpx.post(f"{sandbox_process}/oauth2/token", data=form)
    second = httpx.post(f"{sandbox_process}/oauth2/token", data=form)

    assert first.json()["errcode"] == 30006
    assert second.json()["errcode"] == 10000


@pytest.mark.parametrize("vendor", ["ttlock", "salto"])
def test_lis_sandbox_says_where_it_listens(vendor: str) -> None:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "app", "sandbox", vendor, "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert f"listening on http://127.0.0.1:{port}" in first, first
        wait_for_port(port, 20, what="sandbox")
    finally:
        process.terminate()
        process.wait(timeout=10)
