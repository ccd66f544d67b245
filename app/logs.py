"""The service's logs: one JSON object per line when ``LIS_LOG_FORMAT=json`` (text otherwise), and a redaction step
on every record whatever the format.

Redaction is defence in depth: no code logs a guest's data or a secret on purpose (tests/e2e/test_canaries.py
searches the logs for them). What would carry one by accident is masked before it is written: ``name=value`` pairs
whose name the classification map (docs/security/classification.yaml) classes as secret, personal or sealed, and
values shaped like e-mail addresses, phone numbers, Standard Webhooks secrets, bearer tokens and JWTs.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml

CLASSIFICATION = Path(__file__).resolve().parents[1] / "docs" / "security" / "classification.yaml"
HIDDEN_CLASSES = frozenset({"secret", "personal", "sealed"})
MASK = "[redacted]"
_SHAPES = (
    re.compile(r"whsec_[A-Za-z0-9+/=]{8,}"),  # Standard Webhooks secrets
    re.compile(r"(?i)bearer\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),  # JWTs
    re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"),  # e-mail addresses
    re.compile(r"(?<![\w+])\+\d{8,15}\b"),  # phone numbers in international form
)


@cache
def hidden_names() -> frozenset[str]:
    """Field names the classification map classes secret, personal or sealed (and common secret words)."""
    names = {"password", "client_secret", "secret", "token", "pin", "passcode"}
    if CLASSIFICATION.exists():
        classes = yaml.safe_load(CLASSIFICATION.read_text())
        names |= {name for section in ("fields", "columns") for name, kind in classes.get(section, {}).items()
                  if kind in HIDDEN_CLASSES}
    return frozenset(name.rsplit(".", 1)[-1] for name in names)


@cache
def _hidden_pairs() -> re.Pattern[str]:
    """``name=value`` (or ``'name': value``) for every hidden name, compiled once: it runs on every log record."""
    names = "|".join(sorted(map(re.escape, hidden_names()), key=len, reverse=True))
    return re.compile(rf"(?i)\b({names})(['\"]?\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|[^\s,;&)}}]+)")


def redact(text: str) -> str:
    """``text`` with the values of hidden ``name=value`` pairs and secret- or guest-shaped values masked."""
    text = _hidden_pairs().sub(rf"\1\2{MASK}", text)
    for shape in _SHAPES:
        text = shape.sub(MASK, text)
    return text


class RedactingFilter(logging.Filter):
    """Masks the formatted message (arguments included) of every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, and the exception if there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {"ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                                 "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the worker and the ingress: the format asked for, redaction on."""
    formatter = {"()": "app.logs.JsonFormatter"} if log_format == "json" else {
        "format": "[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s"}
    return {"version": 1, "disable_existing_loggers": False,
            "filters": {"redact": {"()": "app.logs.RedactingFilter"}},
            "formatters": {"default": formatter},
            "handlers": {"default": {"class": "logging.StreamHandler", "formatter": "default",
                                     "filters": ["redact"]}},
            "root": {"level": level.upper(), "handlers": ["default"]}}


def worker_logging(log_format: str, level: str) -> dict[str, Any]:
    """The worker's logging for mode's ``Worker(logging_config=…)``: JSON lines, or mode's own colored text merged
    with the redaction filter."""
    if log_format == "json":
        return logging_config(log_format, level)
    return {"merge": True, "filters": {"redact": {"()": "app.logs.RedactingFilter"}},
            "handlers": {"default": {"level": level.upper(), "class": "colorlog.StreamHandler", "formatter": "colored",
                                     "filters": ["redact"]}}}
