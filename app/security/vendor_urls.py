"""Which vendor API addresses a directory may name: a guard against a directory (or its editor) turning the worker's
vendor calls, which carry the vendor account's secrets, against other services (SSRF).

A vendor URL must be ``https``; it may not name a link-local address (the clouds' instance metadata at
169.254.169.254 and ``fe80::/10``), an unspecified, multicast or reserved one, or a metadata host name. Loopback
(``127.0.0.0/8``, ``::1``, ``localhost``) is the dev stack's sandboxes: allowed, over plain ``http`` too, only when the
caller says so (``lis dev``, the tests, ``lis directory load --allow-loopback-vendors``). Private addresses stay
allowed: an on-premises Salto Space server lives in the hotel's network. Checked when a directory is validated and
loaded; a host name that resolves to a forbidden address later (DNS rebinding) is not caught here.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "instance-data", "instance-data.ec2.internal"})
LOOPBACK_HOSTS = frozenset({"localhost", "localhost.localdomain"})


def vendor_url_problem(url: str, *, allow_loopback: bool = False) -> str | None:
    """Why ``url`` may not be a vendor API address, or None when it may."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018  # a port that is no number raises here
    except ValueError as err:
        return f"{url!r} is not a URL: {err}"
    if parts.scheme not in ("https", "http") or not host:
        return f"{url!r} is not an https:// URL"
    if parts.username or parts.password:
        return "a vendor URL carries no user or password (they belong in the account's secret fields)"
    if host in METADATA_HOSTS:
        return f"{host} is a cloud metadata service, not a vendor"
    loopback = host in LOOPBACK_HOSTS or _address(host, "is_loopback")
    if loopback and not allow_loopback:
        return f"{host} is this machine: only the dev stack's sandboxes live there (--allow-loopback-vendors)"
    if not loopback and any(_address(host, kind)
                            for kind in ("is_link_local", "is_unspecified", "is_multicast", "is_reserved")):
        return f"{host} is a link-local, unspecified, multicast or reserved address, not a vendor"
    if parts.scheme == "http" and not loopback:
        return f"{url!r} is plain http: vendor calls carry the account's secrets, so https only"
    return None


def _address(host: str, kind: str) -> bool:
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:169.254.169.254 is the metadata address too
    return bool(getattr(mapped or address, kind))
