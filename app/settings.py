"""Service settings, read once from the environment. External services win when configured."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, Field


class Settings(BaseModel):
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    database_url: str = ""
    app_id: str = "lock-integration"
    topic_prefix: str = ""
    partitions: int = Field(default=4, ge=1)
    replication: int = Field(default=1, ge=1)
    data_dir: Path = Path.home() / ".local" / "share" / "lis"
    store: str = "rocksdb://"
    web_port: int = 6066
    master_key_file: Path | None = None
    session_timeout_s: float = Field(default=30.0, gt=0)
    vendor_attempts: int = Field(default=4, ge=1)
    vendor_backoff_cap_s: float = 2.0

    @property
    def broker_url(self) -> str:
        return ",".join(f"kafka://{server}" for server in self.kafka_bootstrap_servers.split(","))

    @property
    def key_file(self) -> Path:
        return self.master_key_file or self.data_dir / "master.key"

    def topic(self, name: str) -> str:
        """The real topic name: the prefix keeps test runs and tenants' environments apart on one broker."""
        return f"{self.topic_prefix}{name}"


_ENV = {
    "KAFKA_BOOTSTRAP_SERVERS": "kafka_bootstrap_servers",
    "DATABASE_URL": "database_url",
    "LIS_APP_ID": "app_id",
    "LIS_TOPIC_PREFIX": "topic_prefix",
    "LIS_PARTITIONS": "partitions",
    "LIS_REPLICATION": "replication",
    "LIS_DATA_DIR": "data_dir",
    "LIS_STORE": "store",
    "LIS_WEB_PORT": "web_port",
    "LIS_MASTER_KEY_FILE": "master_key_file",
    "LIS_SESSION_TIMEOUT_S": "session_timeout_s",
    "LIS_VENDOR_ATTEMPTS": "vendor_attempts",
    "LIS_VENDOR_BACKOFF_CAP_S": "vendor_backoff_cap_s",
}


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Settings from ``env`` (default: the process environment); unknown variables are ignored."""
    source = os.environ if env is None else env
    return Settings.model_validate({field: source[name] for name, field in _ENV.items() if name in source})


settings = load_settings()
