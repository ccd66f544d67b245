"""Errors for people: a failure to reach or use Kafka or PostgreSQL becomes one line — what was tried, what failed,
and the setting or command that fixes it — with an exit code per kind. ``--debug`` or ``LIS_DEBUG=1`` shows the
traceback instead.

Exit codes: 1 the command's own failure (it says what; a file or folder it needs is missing or unreadable), 2 usage,
3 Kafka unreachable, 4 PostgreSQL unreachable or not configured, 5 PostgreSQL refused the credentials, 6 the database
has no schema yet, 7 permission denied.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass
from urllib.parse import urlsplit

import asyncpg
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError

from app.settings import settings

COMMAND_FAILED = 1
KAFKA_UNREACHABLE, POSTGRES_UNREACHABLE, POSTGRES_AUTH, POSTGRES_SCHEMA, POSTGRES_PERMISSION = 3, 4, 5, 6, 7


@dataclass(frozen=True)
class Explained:
    line: str
    exit_code: int


@dataclass(frozen=True)
class Database:
    """The PostgreSQL a command uses, and the setting that names it (``DATABASE_URL``, or the owner's URL of
    ``lis migrate`` and ``lis dr``)."""

    url: str
    setting: str = "DATABASE_URL"


def database_of(argv: list[str], environ: dict[str, str]) -> Database:
    """The database of the command line ``argv``: the owner's URL for the commands that take one."""
    if argv[:1] in (["migrate"], ["dr"]):
        given = next((arg.split("=", 1)[1] for arg in argv if arg.startswith("--admin-url=")), None)
        if given is None and "--admin-url" in argv[:-1]:
            given = argv[argv.index("--admin-url") + 1]
        return Database(given or environ.get("LIS_ADMIN_DATABASE_URL", ""), "LIS_ADMIN_DATABASE_URL (--admin-url)")
    return Database(settings.database_url)


def explain(err: BaseException, database: Database | None = None) -> Explained | None:
    """The one-line explanation of ``err``, or None when it is not a known service failure."""
    database = database or Database(settings.database_url)
    at, setting = _database(database.url, database.setting), database.setting
    for cause in _chain(err):
        if isinstance(cause, KafkaConnectionError | KafkaTimeoutError) or (
                isinstance(cause, OSError) and _raised_in(cause, "aiokafka")):
            return Explained(f"cannot reach Kafka at {settings.kafka_bootstrap_servers}: {_first_line(cause)} — "
                             f"set KAFKA_BOOTSTRAP_SERVERS, or start the dev stack with `lis dev`", KAFKA_UNREACHABLE)
        if isinstance(cause, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError):
            return Explained(f"PostgreSQL at {at} refused the credentials: {_first_line(cause)} — check the "
                             f"user and password in {setting}", POSTGRES_AUTH)
        if isinstance(cause, asyncpg.UndefinedTableError):
            return Explained(f"PostgreSQL at {at} has no service schema ({_first_line(cause)}) — run "
                             f"`lis migrate` with LIS_ADMIN_DATABASE_URL set", POSTGRES_SCHEMA)
        if isinstance(cause, asyncpg.InsufficientPrivilegeError):
            return Explained(f"PostgreSQL at {at} denied access: {_first_line(cause)} — DATABASE_URL must "
                             f"use the service's role (lis_app) created by `lis migrate`", POSTGRES_PERMISSION)
        if isinstance(cause, asyncpg.CannotConnectNowError) or (
                isinstance(cause, OSError) and _raised_in(cause, "asyncpg")):
            return Explained(f"cannot reach PostgreSQL at {at}: {_first_line(cause)} — set {setting}, or "
                             f"start the dev stack with `lis dev`", POSTGRES_UNREACHABLE)
        if isinstance(cause, RuntimeError) and str(cause).startswith("DATABASE_URL is not set"):
            return Explained(f"{cause} — set DATABASE_URL (postgresql://lis_app:…@host:5432/db)",
                             POSTGRES_UNREACHABLE)
        if isinstance(cause, FileNotFoundError | NotADirectoryError | PermissionError):
            what = f"{cause.strerror}: {cause.filename}" if cause.filename else _first_line(cause)
            return Explained(what, COMMAND_FAILED)
    return None


def quiet_shutdown() -> None:
    """After a failure: no "Unclosed AIOKafka…" or task-destroyed noise from half-started clients."""
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)


def _chain(err: BaseException) -> list[BaseException]:
    found, seen = [], set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        found.append(current)
        if isinstance(current, BaseExceptionGroup):
            found += [inner for sub in current.exceptions for inner in _chain(sub)]
        current = current.__cause__ or current.__context__
    return found


def _raised_in(err: BaseException, package: str) -> bool:
    return any(f"/{package}/" in frame.filename for frame in traceback.extract_tb(err.__traceback__))


def _database(url: str, setting: str) -> str:
    """host:port/database of the URL, without its credentials."""
    if not url:
        return f"({setting} not set)"
    parts = urlsplit(url)
    return f"{parts.hostname or '127.0.0.1'}:{parts.port or 5432}{parts.path or '/'}"


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0][:200] if text else type(err).__name__
