"""The dev stack's state file: written, found while its process lives, ignored once it is gone, and used by the
settings only when neither Kafka nor PostgreSQL is configured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from app.dev_state import DevStack, read_state, remove_state, state_file, write_state

ENV = {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1234", "DATABASE_URL": "postgresql://lis_app:x@127.0.0.1:5/postgres",
       "LIS_DATA_DIR": "/tmp/lis-stack-x/data", "LIS_NOT_REACHABLE": "dropped"}


def test_a_written_state_is_read_back_while_its_process_lives(tmp_path: Path) -> None:
    path = write_state(DevStack(pid=os.getpid(), root=tmp_path, env=ENV, urls={"ttlock": "http://127.0.0.1:9"}),
                       tmp_path / "dev.json")
    stack = read_state(path)
    assert stack is not None
    assert stack.env["KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:1234"
    assert "LIS_NOT_REACHABLE" not in stack.env, "only the settings other commands need"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    remove_state(os.getpid(), path)
    assert not path.exists()


def test_a_state_whose_process_is_gone_is_ignored(tmp_path: Path) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    path = write_state(DevStack(pid=int(gone.stdout), root=tmp_path, env=ENV, urls={}), tmp_path / "dev.json")
    assert read_state(path) is None


def test_another_process_never_removes_a_newer_stacks_state(tmp_path: Path) -> None:
    path = write_state(DevStack(pid=os.getpid(), root=tmp_path, env=ENV, urls={}), tmp_path / "dev.json")
    remove_state(os.getpid() + 1, path)
    assert path.exists()


def test_the_state_file_lives_under_xdg_state_home_unless_lis_dev_state_says() -> None:
    assert state_file({"XDG_STATE_HOME": "/s"}) == Path("/s/lis/dev-stack.json")
    assert state_file({"XDG_STATE_HOME": "/s", "LIS_DEV_STATE": "/x.json"}) == Path("/x.json")


def _settings_in(env: dict[str, str]) -> str:
    probe = "from app.settings import settings, dev_stack_in_use; print(settings.kafka_bootstrap_servers, " \
            "dev_stack_in_use is not None)"
    result = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    return result.stdout.strip()


def test_settings_use_a_running_dev_stack_only_when_no_service_is_configured(tmp_path: Path) -> None:
    path = write_state(DevStack(pid=os.getpid(), root=tmp_path, env=ENV, urls={}), tmp_path / "dev.json")
    base = {name: value for name, value in os.environ.items()
            if name not in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL")} | {"LIS_DEV_STATE": str(path)}
    assert _settings_in(base) == "127.0.0.1:1234 True"
    assert _settings_in(base | {"KAFKA_BOOTSTRAP_SERVERS": "10.0.0.1:9092"}) == "10.0.0.1:9092 False"

