"""Vendor API addresses a directory may name: https to a vendor or an on-premises server; never the cloud's metadata
service, link-local or unspecified addresses; this machine only for the dev stack's sandboxes."""

from __future__ import annotations

import pytest

from app.security.vendor_urls import vendor_url_problem


@pytest.mark.parametrize("url", ["https://euapi.ttlock.com", "https://salto.example/", "https://10.20.0.5:8443/api",
                                 "https://[2001:db8::1]/", "https://salto-space.hotel.lan"])
def test_a_vendor_or_an_on_premises_server_over_https_is_allowed(url: str) -> None:
    assert vendor_url_problem(url) is None


@pytest.mark.parametrize(("url", "why"), [
    ("http://euapi.ttlock.com", "plain http"),
    ("https://169.254.169.254/latest/meta-data/", "link-local"),
    ("https://[::ffff:169.254.169.254]/", "link-local"),
    ("https://[fe80::1]/", "link-local"),
    ("https://metadata.google.internal/computeMetadata/v1/", "metadata"),
    ("https://0.0.0.0:8080", "unspecified"),
    ("https://127.0.0.1:6066/ops/keys", "this machine"),
    ("https://localhost/", "this machine"),
    ("ftp://vendor.example", "not an https"),
    ("https://admin:pw@vendor.example", "no user or password"),
    ("https://vendor.example:port", "not a URL"),
    ("euapi.ttlock.com", "not an https"),
])
def test_a_vendor_url_that_could_turn_vendor_calls_elsewhere_is_refused(url: str, why: str) -> None:
    problem = vendor_url_problem(url)
    assert problem is not None
    assert why in problem, problem


def test_the_dev_stacks_sandboxes_on_this_machine_are_allowed_when_the_caller_says_so() -> None:
    for url in ("http://127.0.0.1:41234", "https://localhost:8443", "http://[::1]:9000"):
        assert vendor_url_problem(url, allow_loopback=True) is None
    assert vendor_url_problem("http://169.254.169.254", allow_loopback=True) is not None
    assert vendor_url_problem("http://vendor.example", allow_loopback=True) is not None, "http stays loopback-only"
