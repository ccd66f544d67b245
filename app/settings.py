"""Service settings, read once from the environment. External services win when configured."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr

from app.dev_state import DevStack, read_state, state_file
from app.security.envelope import KeyStore, LocalKeyStore


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
    key_store: Literal["local", "pkcs11"] = Field(default="local", description="where the tenants' key-encryption "
                                                  "keys live: the local master key file, or a PKCS#11 HSM")
    pkcs11_library: str = "/usr/lib/softhsm/libsofthsm2.so"
    pkcs11_token: str = ""
    pkcs11_pin: SecretStr = SecretStr("")
    session_timeout_s: float = Field(default=30.0, gt=0)
    group_instance_id: str = Field(default="", description="static group membership: a name stable across restarts "
                                   "and unique among the running workers (e.g. the pod of a StatefulSet); a worker "
                                   "restarted under it gets its partitions back at once instead of after the "
                                   "session timeout (empty: dynamic membership)")
    standby_replicas: int = Field(default=0, ge=0, description="standby copies of each table partition kept warm "
                                  "on other workers, so a takeover does not replay the whole changelog")
    commit_interval_s: float = Field(default=1.0, gt=0, description="how often consumed offsets are committed")
    quick_attempts: int = Field(default=2, ge=1, description="in-place attempts of one vendor call")
    retry_base_s: float = Field(default=1.0, gt=0, description="first delayed retry waits up to this long")
    retry_cap_s: float = Field(default=60.0, gt=0, description="no delayed retry waits longer")
    retry_max_attempts: int = Field(default=6, ge=1, description="delayed attempts before a saga step fails")
    retry_scan_s: float = Field(default=1.0, gt=0, description="how often the retry timer looks for due retries")
    audit_checkpoint_s: float = Field(default=30.0, gt=0, description="how often audit checkpoints are signed")
    breaker_window_s: float = 30.0
    breaker_min_calls: int = 10
    breaker_failure_rate: float = 0.5
    breaker_open_s: float = 15.0
    continuity_scan_s: float = Field(default=10.0, gt=0, description="how often idle partitions are checked")
    stream_audit_s: float = Field(default=600.0, gt=0, description="how often the end-to-end stream audit runs")
    reconcile_s: float = Field(default=3600.0, gt=0, description="how often each worker reconciles its locks")
    log_format: Literal["text", "json"] = Field(default="text", description="the worker's and the ingress's log "
                                                "lines: text, or one JSON object per line (redacted either way)")
    processed_ledger: Path | None = Field(default=None, description="append every processed offset to this file")
    web_host: str = Field(default="127.0.0.1", description="the address the worker's web server (ops API) binds")
    advertised_url: str = Field(default="", description="the URL other workers forward ops requests for this "
                                "worker's keys to (default http://<web_host>:<web_port>)")
    metrics_port: int = Field(default=6067, ge=0, description="Prometheus metrics, on their own port (0: none)")
    ops_issuer: str = Field(default="lis-dev", description="the iss every ops API token must carry")
    ops_audience: str = Field(default="lis-ops", description="the aud every ops API token must carry")
    ops_jwks: str = Field(default="", description="the ops tokens' keys: a JWKS file or an https:// jwks_uri "
                          "(default: the local issuer's <data_dir>/ops/jwks.json)")
    ops_leeway_s: float = Field(default=30.0, ge=0, le=300, description="clock skew allowed on exp and nbf")

    @property
    def broker_url(self) -> str:
        return ",".join(f"kafka://{server}" for server in self.kafka_bootstrap_servers.split(","))

    @property
    def key_file(self) -> Path:
        return self.master_key_file or self.data_dir / "master.key"

    def keys(self) -> KeyStore:
        """The tenants' key store: the HSM's token when ``LIS_KEY_STORE=pkcs11``, else the local master key."""
        if self.key_store == "pkcs11":
            from app.security.pkcs11_keys import Pkcs11KeyStore  # python-pkcs11 only where an HSM is used

            return Pkcs11KeyStore(self.pkcs11_library, self.pkcs11_token, self.pkcs11_pin.get_secret_value())
        return LocalKeyStore.from_file(self.key_file)

    @property
    def canonical_url(self) -> str:
        return self.advertised_url or f"http://{self.web_host}:{self.web_port}"

    @property
    def ops_key_dir(self) -> Path:
        """The local token issuer's folder (``lis ops token``): its signing key and the JWKS (the folder of
        ``LIS_OPS_JWKS`` when that names a file)."""
        if self.ops_jwks and not self.ops_jwks.startswith(("https://", "http://")):
            return Path(self.ops_jwks).parent
        return self.data_dir / "ops"

    @property
    def ops_jwks_source(self) -> str:
        return self.ops_jwks or str(self.data_dir / "ops" / "jwks.json")

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
    "LIS_KEY_STORE": "key_store",
    "LIS_PKCS11_LIBRARY": "pkcs11_library",
    "LIS_PKCS11_TOKEN": "pkcs11_token",  # nosec B105 - the token's label (a name), not a secret
    "LIS_PKCS11_PIN": "pkcs11_pin",
    "LIS_SESSION_TIMEOUT_S": "session_timeout_s",
    "LIS_GROUP_INSTANCE_ID": "group_instance_id",
    "LIS_STANDBY_REPLICAS": "standby_replicas",
    "LIS_COMMIT_INTERVAL_S": "commit_interval_s",
    "LIS_QUICK_ATTEMPTS": "quick_attempts",
    "LIS_RETRY_BASE_S": "retry_base_s",
    "LIS_RETRY_CAP_S": "retry_cap_s",
    "LIS_RETRY_MAX_ATTEMPTS": "retry_max_attempts",
    "LIS_RETRY_SCAN_S": "retry_scan_s",
    "LIS_AUDIT_CHECKPOINT_S": "audit_checkpoint_s",
    "LIS_BREAKER_WINDOW_S": "breaker_window_s",
    "LIS_BREAKER_MIN_CALLS": "breaker_min_calls",
    "LIS_BREAKER_FAILURE_RATE": "breaker_failure_rate",
    "LIS_BREAKER_OPEN_S": "breaker_open_s",
    "LIS_CONTINUITY_SCAN_S": "continuity_scan_s",
    "LIS_STREAM_AUDIT_S": "stream_audit_s",
    "LIS_RECONCILE_S": "reconcile_s",
    "LIS_PROCESSED_LEDGER": "processed_ledger",
    "LIS_LOG_FORMAT": "log_format",
    "LIS_WEB_HOST": "web_host",
    "LIS_ADVERTISED_URL": "advertised_url",
    "LIS_METRICS_PORT": "metrics_port",
    "LIS_OPS_ISSUER": "ops_issuer",
    "LIS_OPS_AUDIENCE": "ops_audience",
    "LIS_OPS_JWKS": "ops_jwks",
    "LIS_OPS_LEEWAY_S": "ops_leeway_s",
}


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Settings from ``env`` (default: the process environment, completed by a running ``lis dev`` stack when it
    configures neither Kafka nor PostgreSQL); unknown variables are ignored."""
    source: Mapping[str, str] = os.environ if env is None else env
    stack = dev_stack_for(source) if env is None else None
    if stack is not None:
        source = {**stack.env, **source}
    return Settings.model_validate({field: source[name] for name, field in _ENV.items() if name in source})


def dev_stack_for(source: Mapping[str, str]) -> DevStack | None:
    """The running ``lis dev`` stack whose services these variables fall back to: none when they name Kafka or
    PostgreSQL themselves."""
    if "KAFKA_BOOTSTRAP_SERVERS" in source or "DATABASE_URL" in source:
        return None
    return read_state(state_file(dict(source)))


dev_stack_in_use = dev_stack_for(os.environ)  # the running `lis dev` stack the settings below came from, if any
settings = load_settings()
