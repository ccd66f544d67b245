"""``lis directory load``: check a directory file, then load its tenants, properties, locks and sealed vendor
accounts into PostgreSQL as the application role."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from adapters.postgres.directory import (
    load_directory_file,
    property_from_file,
    save_property_directory,
    save_tenant,
)
from adapters.postgres.pool import create_pool
from adapters.postgres.vendor_accounts import save_vendor_account
from app.directory_file import check_file
from app.security.envelope import KeyStore

_ENV_REF = re.compile(r"^\$\{([A-Z0-9_]+)\}$")


def _resolve(value: Any) -> Any:
    """Replace ``${NAME}`` strings with the environment's value: directory files carry no secrets."""
    if isinstance(value, dict):
        return {k: _resolve(v) for k, v in value.items()}
    if isinstance(value, str) and (match := _ENV_REF.match(value)):
        return os.environ[match.group(1)]
    return value


class DirectoryFileError(ValueError):
    """A directory file with errors: nothing was loaded."""


async def load_directory(database_url: str, path: Path, keys: KeyStore | None = None, *,
                         allow_loopback_vendors: bool = False) -> int:
    """Check a directory file, then load it into PostgreSQL as the application role; the number of locks. Vendor URLs
    on this machine only with ``allow_loopback_vendors`` (the dev stack and the tests, whose sandboxes live there)."""
    from app.settings import settings  # the settings of the command that loads, read when it runs

    errors = [problem for problem in check_file(path, allow_loopback_vendors=allow_loopback_vendors)
              if not problem.warning]
    if errors:
        raise DirectoryFileError("\n".join([f"{path}: {error}" for error in errors]
                                            + [f"{path}: {len(errors)} error(s): nothing loaded"]))
    keys = keys or settings.keys()
    pool = await create_pool(database_url)
    count = 0
    try:
        for tenant in load_directory_file(path):
            await save_tenant(pool, tenant["tenant"], tenant["region"], tenant.get("name", tenant["tenant"]))
            for prop in tenant.get("properties", []):
                directory = property_from_file(tenant, prop)
                await save_property_directory(pool, directory)
                count += len(directory.locks)
                for vendor, config in (prop.get("vendor_accounts") or {}).items():
                    await save_vendor_account(pool, keys, directory.tenant, directory.property, vendor,
                                              _resolve(config))
    finally:
        await pool.close()
    return count
