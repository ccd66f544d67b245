"""Errors for people: every command that needs Kafka or PostgreSQL, run against closed ports, answers in one line
with what it tried and the setting that fixes it, the documented exit code, and no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from app.cli.errors import KAFKA_UNREACHABLE, POSTGRES_AUTH, POSTGRES_SCHEMA, POSTGRES_UNREACHABLE
from app.devstack.stack import Stack

ROOT = Path(__file__).resolve().parents[2]
CLOSED = "127.0.0.1:9"
SECRETS = dict.fromkeys(("TTLOCK_CLIENT_ID", "TTLOCK_CLIENT_SECRET", "TTLOCK_USERNAME", "TTLOCK_PASSWORD",
                         "SALTO_CLIENT_ID", "SALTO_CLIENT_SECRET"), "x")
KAFKA_COMMANDS = [["dlq", "list"], ["dlq", "replay", "--contains", "x"], ["audit", "verify"], ["audit-stream"],
                  ["master-key", "shift", "--tenant", "t", "--property", "p"],
                  ["pms", "publish", "docs/examples/pms-events.csv"], ["worker"], ["ingress", "serve", "--port", "0"]]
POSTGRES_COMMANDS = [["directory", "load", "docs/examples/directory.yaml"],
                     ["reconcile", "--tenant", "t", "--property", "p"], ["directory", "export", "--tenant", "t"],
                     ["audit", "checkpoint", "--tenant", "t"], ["synthetics", "run", "--tenant", "t"]]
# Commands that use the database owner's URL name that setting, not DATABASE_URL.
OWNER_COMMANDS = [["migrate", "--app-password", "x"]]


def run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"), **SECRETS}
    return subprocess.run([sys.executable, "-m", "app", *args], env={**base, **env}, cwd=ROOT, capture_output=True,
                          text=True, timeout=90)


@pytest.mark.parametrize("args", KAFKA_COMMANDS, ids=" ".join)
def test_a_command_without_kafka_says_so_in_one_line(args: list[str]) -> None:
    done = run(args, KAFKA_BOOTSTRAP_SERVERS=CLOSED, DATABASE_URL=f"postgresql://lis_app:x@{CLOSED}/lis")
    assert done.returncode in (KAFKA_UNREACHABLE, POSTGRES_UNREACHABLE), done.stderr
    lines = [line for line in (done.stderr + done.stdout).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert "Traceback" not in lines[0]
    if done.returncode == KAFKA_UNREACHABLE:
        assert lines[0].startswith(f"lis: cannot reach Kafka at {CLOSED}")
        assert "set KAFKA_BOOTSTRAP_SERVERS" in lines[0]


@pytest.mark.parametrize("args", POSTGRES_COMMANDS, ids=" ".join)
def test_a_command_without_postgres_says_so_in_one_line(args: list[str]) -> None:
    done = run(args, KAFKA_BOOTSTRAP_SERVERS=CLOSED, DATABASE_URL=f"postgresql://lis_app:secret@{CLOSED}/lis")
    assert done.returncode == POSTGRES_UNREACHABLE, done.stderr
    lines = [line for line in (done.stderr + done.stdout).splitlines() if line.strip()]
    assert lines == [lines[0]]
    assert lines[0].startswith(f"lis: cannot reach PostgreSQL at {CLOSED}/lis")
    assert "secret" not in lines[0], "the password reached the terminal"


@pytest.mark.parametrize("args", OWNER_COMMANDS, ids=" ".join)
def test_a_command_on_the_owners_url_names_that_setting(args: list[str]) -> None:
    done = run(args, LIS_ADMIN_DATABASE_URL=f"postgresql://postgres:secret@{CLOSED}/postgres",
               DATABASE_URL="postgresql://lis_app:x@127.0.0.1:8/lis")
    lines = [line for line in (done.stderr + done.stdout).splitlines() if line.strip()]
    assert done.returncode == POSTGRES_UNREACHABLE, lines
    assert lines == [lines[0]]
    assert lines[0].startswith(f"lis: cannot reach PostgreSQL at {CLOSED}/postgres")
    assert "set LIS_ADMIN_DATABASE_URL" in lines[0]
    assert "secret" not in lines[0]


OWNER = f"postgresql://postgres:x@{CLOSED}/postgres"
MISSING = [["dr", "backup", "--pg-data", "/nonexistent/pg", "--wal-archive", "/nonexistent/wal", "--admin-url", OWNER],
           ["dr", "drill", "--backups", "/nonexistent/backups", "--wal-archive", ".", "--pg-data", ".",
            "--admin-url", OWNER],
           ["pms", "publish", "/nonexistent/events.csv"]]


@pytest.mark.parametrize("args", MISSING, ids=lambda args: " ".join(args[:2]))
def test_a_missing_file_or_folder_is_one_line_naming_it(args: list[str]) -> None:
    done = run(args, KAFKA_BOOTSTRAP_SERVERS=CLOSED)
    lines = [line for line in (done.stderr + done.stdout).splitlines() if line.strip()]
    assert done.returncode in (1, 2), lines
    assert len(lines) <= 5, lines
    assert not any("Traceback" in line for line in lines), lines
    assert any("/nonexistent/" in line for line in lines), lines


def test_without_database_url_the_line_names_the_setting() -> None:
    done = run(["reconcile", "--tenant", "t", "--property", "p"], KAFKA_BOOTSTRAP_SERVERS=CLOSED)
    assert done.returncode != 0
    assert "DATABASE_URL" in done.stderr
    assert "Traceback" not in done.stderr


def test_debug_shows_the_traceback() -> None:
    done = run(["--debug", "dlq", "list"], KAFKA_BOOTSTRAP_SERVERS=CLOSED)
    assert "Traceback" in done.stderr


@pytest.mark.postgres
async def test_bad_credentials_and_a_database_without_schema_each_get_their_line_and_code(stack: Stack) -> None:
    parts = urlsplit(stack.database_url)
    wrong = stack.database_url.replace(f":{parts.password}@", ":not-the-password@")
    done = run(["reconcile", "--tenant", "t", "--property", "p"], KAFKA_BOOTSTRAP_SERVERS=CLOSED, DATABASE_URL=wrong)
    assert done.returncode == POSTGRES_AUTH, done.stderr
    assert "refused the credentials" in done.stderr
    assert "not-the-password" not in done.stderr

    admin = await asyncpg.connect(stack.admin_database_url)
    name = f"empty_{uuid.uuid4().hex[:8]}"
    try:
        await admin.execute(f"CREATE DATABASE {name}")
        empty = urlunsplit(urlsplit(stack.admin_database_url)._replace(path=f"/{name}"))
        done = run(["reconcile", "--tenant", "t", "--property", "p"], KAFKA_BOOTSTRAP_SERVERS=CLOSED,
                   DATABASE_URL=empty)
        assert done.returncode == POSTGRES_SCHEMA, done.stderr
        assert "run `lis migrate`" in done.stderr
        assert "Traceback" not in done.stderr
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name}")
        await admin.close()


@pytest.mark.postgres
@pytest.mark.parametrize("args", [*POSTGRES_COMMANDS, ["audit", "verify", "--tenant", "t"]], ids=" ".join)
def test_every_database_command_with_a_wrong_password_says_so_in_one_line(stack: Stack, args: list[str]) -> None:
    parts = urlsplit(stack.database_url)
    wrong = stack.database_url.replace(f":{parts.password}@", ":not-the-password@")
    done = run(args, KAFKA_BOOTSTRAP_SERVERS=stack.kafka_bootstrap, DATABASE_URL=wrong)
    lines = [line for line in (done.stderr + done.stdout).splitlines() if line.strip()]
    assert done.returncode == POSTGRES_AUTH, lines
    assert lines == [lines[0]]
    assert "refused the credentials" in lines[0]
    assert "not-the-password" not in lines[0]


def test_a_signing_secret_for_a_vendor_without_signed_webhooks_is_refused_before_connecting() -> None:
    done = run(["ingress", "secret", "rotate", "--tenant", "t", "--vendor", "wiegand"], COLUMNS="200",
               DATABASE_URL=f"postgresql://x@{CLOSED}/x")
    assert done.returncode == 2, done.stderr
    assert "'wiegand' sends no signed webhooks here (those that do: salto)" in done.stderr
    assert "Connect" not in done.stderr
