"""The vendor harness of the LockPort contract suite.

Every test taking ``vendor_port`` runs once per vendor in ``HARNESSES``; a test also taking ``fault`` runs once per
fault mode that vendor's sandbox injects. Each entry starts its real sandbox on 127.0.0.1, provisions locks through
the sandbox's admin API, and yields a :class:`VendorHarness`. ``HARNESSES`` holds one entry per installed vendor
(``adapters.registry.INSTALLED``): ``tests/contract/harness_<vendor>.py`` defining ``<VENDOR>`` (a vendor installed
without one stops the run), so adding a vendor adds a harness file, not a test file or a line here;
``LIS_CONTRACT_HARNESSES=package.module:ENTRY,...`` adds entries from elsewhere for one run (a vendor being
written in its own folder). ``LIS_CONTRACT_VENDORS=salto,wiegand`` limits a run to some vendors (the conformance
report runs one at a time).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import AsyncIterator

import pytest

from adapters.registry import INSTALLED
from tests.contract.harness import HarnessEntry, VendorHarness


def _installed_harnesses() -> dict[str, HarnessEntry]:
    """The entry of every installed vendor, by the file-name convention."""
    found = {}
    for vendor in INSTALLED.names:
        try:
            module = importlib.import_module(f"tests.contract.harness_{vendor}")
        except ModuleNotFoundError as err:
            raise pytest.UsageError(f"vendor {vendor!r} is installed but has no contract harness: write "
                                    f"tests/contract/harness_{vendor}.py defining {vendor.upper()}") from err
        found[vendor] = getattr(module, vendor.upper())
    return found


def _added_harnesses() -> dict[str, HarnessEntry]:
    """Entries named in ``LIS_CONTRACT_HARNESSES`` (``module:ATTRIBUTE``), keyed by the module's vendor name."""
    added = {}
    for name in filter(None, (n.strip() for n in os.environ.get("LIS_CONTRACT_HARNESSES", "").split(","))):
        module, _, attribute = name.partition(":")
        entry = getattr(importlib.import_module(module), attribute)
        added[attribute.lower()] = entry
    return added


HARNESSES: dict[str, HarnessEntry] = {**_installed_harnesses(), **_added_harnesses()}


def selected_vendors() -> list[str]:
    """The vendors of this run: all, or those named in ``LIS_CONTRACT_VENDORS``."""
    wanted = [v.strip() for v in os.environ.get("LIS_CONTRACT_VENDORS", "").split(",") if v.strip()]
    unknown = set(wanted) - set(HARNESSES)
    if unknown:
        raise pytest.UsageError(f"LIS_CONTRACT_VENDORS names unknown vendors {sorted(unknown)}")
    return wanted or sorted(HARNESSES)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise ``vendor_port`` by vendor, and ``(vendor_port, fault)`` by each vendor's own fault modes."""
    if "vendor_port" not in metafunc.fixturenames:
        return
    vendors = selected_vendors()
    if "fault" in metafunc.fixturenames:
        cases = [(v, fault) for v in vendors for fault in HARNESSES[v].faults.items()]
        ids = [f"{v}-{mode}" for v, (mode, _) in cases]
        metafunc.parametrize(("vendor_port", "fault"), cases, ids=ids, indirect=["vendor_port"])
    else:
        metafunc.parametrize("vendor_port", vendors, indirect=True)


@pytest.fixture
async def vendor_port(request: pytest.FixtureRequest) -> AsyncIterator[VendorHarness]:
    """A fresh sandbox and adapter per test."""
    async with HARNESSES[request.param].start() as harness:
        yield harness
