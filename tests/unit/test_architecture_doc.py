"""docs/ARCHITECTURE.md and the import-linter contracts in pyproject.toml describe the same floors."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _contracts() -> list[dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts: list[dict[str, object]] = config["tool"]["importlinter"]["contracts"]
    return contracts


def test_every_floor_of_the_layers_contract_is_named_in_the_architecture_doc() -> None:
    doc = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    layers = next(contract for contract in _contracts() if contract["type"] == "layers")["layers"]
    assert isinstance(layers, list)
    modules = [name.strip() for layer in layers for name in str(layer).split(":")]
    missing = [module for module in modules if module not in doc]
    assert not missing, f"docs/ARCHITECTURE.md does not name these floors of the contract: {missing}"


def test_every_module_of_the_project_sits_on_a_floor() -> None:
    """A new module at the top of app/ must be given a floor, or the layers contract would not hold it."""
    layers = next(contract for contract in _contracts() if contract["type"] == "layers")["layers"]
    assert isinstance(layers, list)
    floors = {name.strip() for layer in layers for name in str(layer).split(":")}
    unplaced = []
    for path in sorted((ROOT / "app").iterdir()):
        name = path.stem if path.suffix == ".py" else path.name
        if name.startswith("_") or (path.is_dir() and not (path / "__init__.py").exists()):
            continue
        if path.suffix != ".py" and not path.is_dir():
            continue
        if f"app.{name}" not in floors:
            unplaced.append(f"app.{name}")
    assert not unplaced, f"modules on no floor of pyproject.toml's layers contract: {unplaced}"


def test_every_dev_tooling_module_of_the_adapters_is_forbidden_to_the_service() -> None:
    """A vendor's sandbox and dev_sandbox modules are dev tooling: a new one must join the forbidden contract."""
    contract = next(contract for contract in _contracts() if contract["type"] == "forbidden")
    forbidden = set(contract["forbidden_modules"])  # type: ignore[call-overload]
    tooling = {".".join(path.relative_to(ROOT).with_suffix("").parts) for path in (ROOT / "adapters").rglob("*.py")
               if path.stem.startswith("sandbox") or path.stem == "dev_sandbox"}
    assert tooling
    assert tooling <= forbidden, f"not forbidden to the service: {sorted(tooling - forbidden)}"
