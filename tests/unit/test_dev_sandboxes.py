"""Every installed vendor names a dev sandbox module: its ``lis sandbox <vendor>`` command, and a ``start`` that
``lis dev`` and the test pipeline run; one that names none is refused with its name, not started half-way."""

from __future__ import annotations

import inspect
from dataclasses import replace

import pytest

from adapters.registry import INSTALLED, SPECS, Registry
from app.devstack.sandbox_cli import sandbox_cli
from app.devstack.vendors import dev_sandbox_of, locks_by_vendor
from app.domain.directory import DirectoryLock
from app.domain.errors import Unsupported


@pytest.mark.parametrize("vendor", INSTALLED.names)
def test_each_installed_vendor_names_a_dev_sandbox_that_exists(vendor: str) -> None:
    start = dev_sandbox_of(vendor)
    assert inspect.iscoroutinefunction(start)
    assert list(inspect.signature(start).parameters) == ["host", "locks"]


def test_lis_sandbox_has_a_command_per_installed_vendor_in_the_registry_s_order() -> None:
    names = [command.name for command in sandbox_cli.registered_commands]
    assert names[:len(INSTALLED.names)] == list(INSTALLED.names)


def test_a_vendor_without_a_dev_sandbox_is_refused_by_name() -> None:
    registry = Registry((replace(SPECS[0], name="acme", title="Acme Locks", dev_sandbox=""),))
    with pytest.raises(Unsupported, match="Acme Locks has no dev sandbox"):
        dev_sandbox_of("acme", registry)


def test_locks_are_grouped_by_vendor_in_the_order_vendors_first_appear() -> None:
    locks = [DirectoryLock(lock_id=f"door-{n}", vendor=vendor, vendor_lock_id=str(n), room=str(n))
             for n, vendor in enumerate(["salto", "ttlock", "salto", "wiegand"], start=1)]
    grouped = locks_by_vendor(locks)
    assert list(grouped) == ["salto", "ttlock", "wiegand"]
    assert [lock.lock_id for lock in grouped["salto"]] == ["door-1", "door-3"]
