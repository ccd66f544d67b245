"""Point-in-time recovery of the project's PostgreSQL: base backups, a simulated loss, a restore from the WAL archive.

The server is the one the project starts (:class:`app.devstack.postgres.PostgresServer`), with ``archive_command``
copying each finished WAL segment to an archive folder. A restore copies the newest base backup taken before the
target into an emptied data dir, sets ``restore_command`` to read the archive, the target (a time or an LSN) and
``recovery_target_action = 'promote'``, creates ``recovery.signal`` and starts the server; PostgreSQL replays the
archived WAL up to the target and opens a new timeline.
"""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from app.devstack.postgres import PostgresServer, pg_bin

_RECOVERY_SETTINGS = ("restore_command", "recovery_target_time", "recovery_target_lsn", "recovery_target_action")


@dataclass(frozen=True)
class RecoveryTarget:
    """Where to stop replaying WAL: a commit time, an LSN, or (neither) the end of the archive."""

    time: datetime | None = None
    lsn: str | None = None

    def settings(self) -> list[str]:
        """The recovery target lines for ``postgresql.auto.conf`` (none: replay the whole archive)."""
        if self.time is not None:
            return [f"recovery_target_time = '{self.time.isoformat(sep=' ')}'"]
        return [f"recovery_target_lsn = '{self.lsn}'"] if self.lsn else []

    def __str__(self) -> str:
        if self.time is not None:
            return f"time {self.time.isoformat()}"
        return f"lsn {self.lsn}" if self.lsn else "end of the WAL archive"


@dataclass(frozen=True)
class RecoveryPoint:
    """Where the restored server stopped replaying: the last WAL record and the last commit time replayed."""

    lsn: str
    time: datetime | None
    restore_seconds: float


@dataclass(frozen=True)
class BaseBackup:
    """A plain-format ``pg_basebackup`` with the server times it started and finished at."""

    path: Path
    started_at: datetime
    finished_at: datetime

    @classmethod
    def newest(cls, backups_dir: Path, before: datetime | None = None) -> BaseBackup:
        """The newest backup finished before ``before`` (any backup when None)."""
        found = [cls.load(p.parent) for p in backups_dir.glob("base-*/backup.json")]
        usable = [b for b in found if before is None or b.finished_at < before]
        if not usable:
            when = f" finished before {before.isoformat()}" if before is not None else ""
            raise FileNotFoundError(f"no base backup in {backups_dir}{when}: run `lis dr backup`")
        return max(usable, key=lambda b: b.finished_at)

    @classmethod
    def load(cls, path: Path) -> BaseBackup:
        """The backup in ``path``, from the times ``base_backup`` recorded beside it."""
        meta = json.loads((path / "backup.json").read_text())
        return cls(path, datetime.fromisoformat(meta["started_at"]), datetime.fromisoformat(meta["finished_at"]))


class Cluster:
    """The project's running PostgreSQL: its data dir, its WAL archive, and a superuser URL."""

    def __init__(self, data_dir: Path, archive_dir: Path, admin_url: str) -> None:
        url = urlsplit(admin_url)
        self.data_dir, self.archive_dir, self.admin_url = data_dir, archive_dir, admin_url
        self._host, self._port, self._user = url.hostname or "127.0.0.1", url.port or 5432, url.username or ""
        self._password = url.password or ""
        owner = data_dir.stat()  # the server runs as its data dir's owner (not root: PostgreSQL refuses)
        self._owner = (owner.st_uid, owner.st_gid)
        user = pwd.getpwuid(owner.st_uid) if owner.st_uid != os.geteuid() else None
        self._server = PostgresServer(root=data_dir.parent, data_dir=data_dir, port=self._port,
                                      password=self._password, user=user)

    async def base_backup(self, backups_dir: Path) -> BaseBackup:
        """Take a plain-format base backup with the WAL it needs streamed alongside."""
        started: datetime = await self._fetchval("SELECT clock_timestamp()")
        path = backups_dir / f"base-{started:%Y%m%dT%H%M%S%f}"
        path.mkdir(parents=True)
        await asyncio.to_thread(
            subprocess.run, [str(pg_bin("pg_basebackup")), "-h", self._host, "-p", str(self._port), "-U", self._user,
                             "-D", str(path / "data"), "-Fp", "-Xstream", "-cfast", "--no-password"],
            check=True, capture_output=True, env={**os.environ, "PGPASSWORD": self._password})
        finished: datetime = await self._fetchval("SELECT clock_timestamp()")
        (path / "backup.json").write_text(json.dumps({"started_at": started.isoformat(),
                                                      "finished_at": finished.isoformat()}))
        return BaseBackup(path, started, finished)

    async def simulate_loss(self, *, archive_current_wal: bool) -> None:
        """Stop the server abruptly and delete its data dir.

        With ``archive_current_wal`` the segment being written is archived first, so a target in it is reachable;
        without, the WAL not archived yet is lost with the disk, as in a real crash.
        """
        if archive_current_wal:
            segment: str = await self._fetchval("SELECT pg_walfile_name(pg_switch_wal())")
            deadline = time.monotonic() + 60
            while not (self.archive_dir / segment).exists():
                if time.monotonic() > deadline:
                    raise TimeoutError(f"WAL segment {segment} was not archived within 60 s")
                await asyncio.sleep(0.2)
        await asyncio.to_thread(self._server.stop_server, mode="immediate")
        shutil.rmtree(self.data_dir)

    async def restore(self, backup: BaseBackup, target: RecoveryTarget, *, timeout_s: float = 120) -> RecoveryPoint:
        """Restore ``backup`` into the empty data dir, replay the archive up to ``target`` and promote."""
        began = time.monotonic()
        shutil.copytree(backup.path / "data", self.data_dir)
        settings = [f"restore_command = 'cp \"{self.archive_dir}/%f\" \"%p\"'", *target.settings(),
                    "recovery_target_action = 'promote'"]
        with (self.data_dir / "postgresql.auto.conf").open("a") as conf:
            conf.write("\n".join(settings) + "\n")
        (self.data_dir / "recovery.signal").touch()
        for path in (self.data_dir, *self.data_dir.rglob("*")):
            os.chown(path, *self._owner)
        self.data_dir.chmod(0o700)
        try:
            await asyncio.to_thread(self._server.start_server)
        except subprocess.CalledProcessError as err:
            log = (self._server.root / "server.log").read_text(errors="replace").splitlines()[-15:]
            raise RuntimeError("the restored server did not start:\n" + "\n".join(log)) from err
        conn = await asyncpg.connect(self.admin_url)
        try:
            deadline = time.monotonic() + timeout_s
            while await conn.fetchval("SELECT pg_is_in_recovery()"):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the restored server was not promoted within {timeout_s} s")
                await asyncio.sleep(0.2)
            row = await conn.fetchrow("SELECT pg_last_wal_replay_lsn()::text AS lsn, "
                                      "pg_last_xact_replay_timestamp() AS at")
            for name in _RECOVERY_SETTINGS:  # a later restart must not enter recovery settings again
                await conn.execute(f"ALTER SYSTEM RESET {name}")
            await conn.execute("SELECT pg_reload_conf()")
        finally:
            await conn.close()
        return RecoveryPoint(row["lsn"], row["at"], time.monotonic() - began)

    async def _fetchval(self, query: str) -> Any:
        conn = await asyncpg.connect(self.admin_url)
        try:
            return await conn.fetchval(query)
        finally:
            await conn.close()
