"""The service's logs: JSON lines on request, and whatever the format, secrets and guest data that would slip into a
message masked — values of names the classification map hides, and secret- or guest-shaped values."""

from __future__ import annotations

import json
import logging
import logging.config
from io import StringIO

import pytest

from app.logs import MASK, logging_config, redact


@pytest.mark.parametrize(("line", "kept"), [
    ("call failed for guest_id=ada.lovelace@example.com on door-7", "call failed for guest_id="),
    ("mobile_key_account: +4915112345678 refused", "mobile_key_account: "),
    ("account {'client_secret': 's3cr3t-value', 'client_id': 'app-1'}", "'client_id': 'app-1'"),
    ("Authorization: Bearer abcdefghijklmnop", "Authorization: "),
    ("secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw rotated", "secret "),
    ("token eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJkZXYifQ.c2lnbmF0dXJl", "token "),
    ("sealed_code=0a1b2c3d4e in the record", "in the record"),
])
def test_a_secret_or_guest_value_in_a_message_is_masked(line: str, kept: str) -> None:
    cleaned = redact(line)
    assert MASK in cleaned
    assert kept in cleaned
    for secret in ("ada.lovelace@example.com", "+4915112345678", "s3cr3t-value", "abcdefghijklmnop",
                   "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "c2lnbmF0dXJl", "0a1b2c3d4e"):
        assert secret not in cleaned


def test_what_the_service_logs_on_purpose_is_left_as_it_is() -> None:
    for line in ("lock t1/eu-west/door-101, stay t1/p1/R1: step t1/eu-west/door-101|t1/p1/R1|1 re-driven",
                 "pms.reservations[2] jumped from 25 to 43 over records no worker processed",
                 "webhook refused vendor=salto tenant=t1 status=401 reason=bad_signature"):
        assert redact(line) == line


def test_json_lines_carry_the_redacted_message() -> None:
    stream = StringIO()
    config = logging_config("json", "info")
    config["handlers"]["default"]["stream"] = stream
    logging.config.dictConfig(config)
    try:
        logging.getLogger("lis.test").warning("no account for %s (password=%s)", "t1/p1", "hunter2hunter2")
    finally:
        logging.config.dictConfig({"version": 1, "disable_existing_loggers": False})
    entry = json.loads(stream.getvalue().splitlines()[-1])
    assert (entry["level"], entry["logger"]) == ("WARNING", "lis.test")
    assert entry["message"] == f"no account for t1/p1 (password={MASK})"
