"""The lock directory file (YAML or JSON): its model (published as the latest ``schemas/directory.v*.json``) and an
offline check that points at the line of every problem — ``lis directory validate FILE``, and ``lis directory load``
before it connects anywhere. The format is documented in docs/DIRECTORY.md.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError

from adapters.registry import INSTALLED, Registry
from app.domain.credential import OfflineFallback, VendorName
from app.domain.directory import DirectoryLock, RoomPolicy
from app.domain.stay_times import PropertyTimes
from app.security.vendor_urls import vendor_url_problem

ENV_REFERENCE = re.compile(r"^\$\{([A-Z0-9_]+)\}$")
_LOOKS_LIKE_REFERENCE = re.compile(r"\$\{|\$[A-Z]")


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PropertyEntry(_Entry):
    property: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    time_zone: str = Field(description="IANA time zone of the property, e.g. Europe/Berlin")
    check_in: str | None = Field(default=None, description="local HH:MM, default 15:00")
    check_out: str | None = Field(default=None, description="local HH:MM, default 11:00")
    early_check_in: str | None = None
    late_checkout: str | None = None
    room_policy: RoomPolicy = RoomPolicy.PARTIAL
    offline_fallback: OfflineFallback | None = Field(default=None, description=(
        "When a lock's gateway is offline: issue an offline passcode after after_minutes of waiting, or at once "
        "when the guest arrives within arrival_within_minutes (TTLock); absent: wait for the gateway"))
    locks: list[DirectoryLock] = Field(min_length=1)
    vendor_accounts: dict[VendorName, dict[str, Any]] = Field(default_factory=dict, description=(
        "Per vendor, the account configuration; secrets as ${ENV_VAR} references, never in clear"))


class TenantEntry(_Entry):
    tenant: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    region: str = Field(min_length=2, max_length=16, pattern=r"^[a-z0-9-]+$")
    name: str | None = None
    properties: list[PropertyEntry] = Field(default_factory=list)


class DirectoryFile(RootModel[list[TenantEntry]]):
    """A lock directory file: a list of tenants, each with its properties and their locks."""
SECRET_FIELDS = ("secret", "password", "token")  # configuration keys that must hold a ${ENV_VAR} reference


@dataclass(frozen=True)
class Problem:
    line: int  # 1-based; 0 when the file could not be read at all
    where: str  # the field path, e.g. tenants[0].properties[1].locks[3].vendor
    what: str
    warning: bool = False  # loadable all the same (a secret in clear)

    def __str__(self) -> str:
        kind = "warning" if self.warning else "error"
        return f"line {self.line}: {kind}: {self.where + ': ' if self.where else ''}{self.what}"


def check_file(path: Path, environ: dict[str, str] | None = None, registry: Registry = INSTALLED, *,
               allow_loopback_vendors: bool = False) -> list[Problem]:
    """Every problem of the directory file, each with its line; an empty list when it can be loaded by a service
    with the vendors of ``registry``. Vendor URLs on this machine are refused unless ``allow_loopback_vendors``
    (the dev stack's sandboxes: :mod:`app.security.vendor_urls`)."""
    environ = dict(os.environ) if environ is None else environ
    try:
        text = path.read_text()
    except OSError as err:
        return [Problem(0, "", f"cannot read {path}: {err.strerror}")]
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        return [Problem(mark.line + 1 if mark else 0, "", f"not YAML/JSON: {getattr(err, 'problem', err)}")]
    try:
        tenants = DirectoryFile.model_validate(data).root
    except ValidationError as err:
        return [Problem(_line(root, e["loc"]), _path(e["loc"]), e["msg"]) for e in err.errors()]
    return _semantic_problems(tenants, root, environ, registry, allow_loopback_vendors)


def _not_installed(registry: Registry, vendor: str) -> str:
    return f"no vendor {vendor!r} is installed here (installed: {', '.join(registry.names)})"


def _semantic_problems(tenants: list[TenantEntry], root: yaml.Node | None, environ: dict[str, str],
                       registry: Registry, allow_loopback: bool) -> list[Problem]:
    problems = []
    for t, tenant in enumerate(tenants):
        lock_ids = Counter(lock.lock_id for prop in tenant.properties for lock in prop.locks)
        # A webhook names its lock by the vendor's id and a tenant has one endpoint per vendor: tenant-wide unique.
        by_webhook = Counter((lock.vendor, lock.vendor_lock_id) for prop in tenant.properties for lock in prop.locks
                             if lock.vendor in registry and registry.spec(lock.vendor).webhooks is not None)
        for p, prop in enumerate(tenant.properties):
            base: tuple[Any, ...] = (t, "properties", p)
            vendor_ids = Counter((lock.vendor, lock.vendor_lock_id) for lock in prop.locks)
            try:
                PropertyTimes(**{k: v for k, v in prop.model_dump().items() if k in PropertyTimes.model_fields
                                 and v is not None})
            except ValidationError as err:
                problems += [Problem(_line(root, (*base, e["loc"][0] if e["loc"] else "time_zone")),
                                     _path((*base, *e["loc"])), e["msg"]) for e in err.errors()]
            for n, lock in enumerate(prop.locks):
                at = (*base, "locks", n)
                if lock_ids[lock.lock_id] > 1:
                    problems.append(Problem(_line(root, (*at, "lock_id")), _path((*at, "lock_id")),
                                            f"lock id {lock.lock_id!r} appears {lock_ids[lock.lock_id]} times in "
                                            f"tenant {tenant.tenant!r}"))
                if vendor_ids[(lock.vendor, lock.vendor_lock_id)] > 1:
                    problems.append(Problem(_line(root, (*at, "vendor_lock_id")), _path((*at, "vendor_lock_id")),
                                            f"{lock.vendor} lock {lock.vendor_lock_id!r} is named by "
                                            f"{vendor_ids[(lock.vendor, lock.vendor_lock_id)]} locks: the vendor "
                                            f"lists credentials per lock, so each needs its own"))
                elif by_webhook[(lock.vendor, lock.vendor_lock_id)] > 1:
                    problems.append(Problem(_line(root, (*at, "vendor_lock_id")), _path((*at, "vendor_lock_id")),
                                            f"{lock.vendor} lock {lock.vendor_lock_id!r} is in more than one "
                                            f"property of tenant {tenant.tenant!r}: its webhooks name the lock by "
                                            f"this id alone, so it must be one lock"))
                if lock.vendor not in registry:
                    problems.append(Problem(_line(root, (*at, "vendor")), _path((*at, "vendor")),
                                            _not_installed(registry, lock.vendor)))
                elif lock.vendor not in prop.vendor_accounts:
                    problems.append(Problem(_line(root, (*at, "vendor")), _path((*at, "vendor")),
                                            f"no vendor_accounts.{lock.vendor} for this {lock.vendor} lock"))
                if (lock.room is None) == (lock.area is None):
                    problems.append(Problem(_line(root, at), _path(at), "a lock serves a room or an area, not both"))
            for vendor, config in prop.vendor_accounts.items():
                if vendor not in registry:
                    where = (*base, "vendor_accounts", vendor)
                    problems.append(Problem(_line(root, where), _path(where), _not_installed(registry, vendor)))
                problems += _secret_problems(root, (*base, "vendor_accounts", vendor), config, environ)
                problems += _url_problems(root, (*base, "vendor_accounts", vendor), config, allow_loopback)
    return problems


def _url_problems(root: yaml.Node | None, at: tuple[Any, ...], config: dict[str, Any],
                  allow_loopback: bool) -> list[Problem]:
    """A vendor account's API addresses (``base_url``, ``identity_url``, …) that could turn its calls elsewhere."""
    problems = []
    for key, value in config.items():
        problem = vendor_url_problem(value, allow_loopback=allow_loopback) \
            if key.endswith("url") and isinstance(value, str) else None
        if problem is not None:
            problems.append(Problem(_line(root, (*at, key)), _path((*at, key)), problem))
    return problems


def _secret_problems(root: yaml.Node | None, at: tuple[Any, ...], config: dict[str, Any],
                     environ: dict[str, str]) -> list[Problem]:
    problems = []
    for key, value in config.items():
        where = (*at, key)
        if not isinstance(value, str):
            continue
        reference = ENV_REFERENCE.match(value)
        if reference and reference.group(1) not in environ:
            problems.append(Problem(_line(root, where), _path(where),
                                    f"references ${{{reference.group(1)}}}, which is not set in this environment"))
        elif not reference and _LOOKS_LIKE_REFERENCE.search(value):
            problems.append(Problem(_line(root, where), _path(where),
                                    f"{value!r} is not a reference: write ${{NAME}} (upper case, digits, _)"))
        elif not reference and any(word in key for word in SECRET_FIELDS):
            problems.append(Problem(_line(root, where), _path(where), warning=True,
                                    what="a secret in clear: put it in an environment variable and write ${NAME}"))
    return problems


def _path(loc: tuple[Any, ...]) -> str:
    parts = ["tenants"]
    for item in loc:
        parts.append(f"[{item}]" if isinstance(item, int) else f".{item}")
    return "".join(parts)


def _line(root: yaml.Node | None, loc: tuple[Any, ...]) -> int:
    """The line of the deepest node of ``loc`` that exists in the file (1-based)."""
    node, line = root, (root.start_mark.line + 1) if root is not None else 0
    for item in loc:
        if isinstance(node, yaml.SequenceNode) and isinstance(item, int) and item < len(node.value):
            node = node.value[item]
        elif isinstance(node, yaml.MappingNode):
            matches = [value for key, value in node.value if key.value == str(item)]
            if not matches:
                break
            node = matches[0]
        else:
            break
        line = node.start_mark.line + 1
    return line
