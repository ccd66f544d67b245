"""No module keeps mutable state of its own: what a worker remembers between records lives in one object per worker
(``app/worker_state.py``), adapters and sandboxes keep theirs on their instances. A module-level dict, list or set
that is not an upper-case constant table fails here (``_due: list = []`` was the kind this replaced)."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

PACKAGES = ("app", "agents", "tables", "adapters")
MUTABLE = (dict, list, set, bytearray)


def _modules() -> list[str]:
    names = []
    for package in PACKAGES:
        root = importlib.import_module(package)
        names += [info.name for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}.")
                  if not info.name.endswith("__main__")]
    return names


@pytest.mark.parametrize("module", _modules())
def test_no_module_keeps_a_mutable_container_of_its_own(module: str) -> None:
    found = [name for name, value in vars(importlib.import_module(module)).items()
             if isinstance(value, MUTABLE) and not name.startswith("__") and not name.lstrip("_").isupper()]
    assert found == [], f"{module} keeps mutable state at module level: {found}"
