"""Standard Webhooks verification: the published test vector, the reference implementation, every refusal reason,
rotation, and that no header content makes verification fail with anything but a reason code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr
from standardwebhooks.webhooks import Webhook

from app.security.webhook_signature import (
    REVEAL,
    EndpointSecrets,
    SignatureRejected,
    SigningSecret,
    decode_secret,
    same_secret,
    sign,
    verify,
)

# The published test vector of the Standard Webhooks specification (VENDORS.md).
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
KEY = decode_secret(VECTOR_SECRET)
OTHER_KEY = decode_secret("whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY")


def vector_headers(**changes: str) -> dict[str, str]:
    headers = {"webhook-id": VECTOR_ID, "webhook-timestamp": str(VECTOR_TIMESTAMP),
               "webhook-signature": VECTOR_SIGNATURE}
    return {**headers, **changes}


def test_signing_the_published_vector_gives_the_published_signature() -> None:
    assert sign(KEY, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE


def test_the_published_vector_verifies_at_its_timestamp() -> None:
    signed = verify([KEY], vector_headers(), VECTOR_BODY, now=VECTOR_TIMESTAMP)
    assert (signed.webhook_id, signed.timestamp) == (VECTOR_ID, VECTOR_TIMESTAMP)


@pytest.mark.parametrize(
    ("headers", "body", "now", "reason"),
    [
        (vector_headers(), b'{"test": 2432232315}', VECTOR_TIMESTAMP, "bad_signature"),
        (vector_headers(**{"webhook-timestamp": str(VECTOR_TIMESTAMP + 1)}), VECTOR_BODY, VECTOR_TIMESTAMP,
         "bad_signature"),
        (vector_headers(**{"webhook-id": VECTOR_ID + "x"}), VECTOR_BODY, VECTOR_TIMESTAMP, "bad_signature"),
        (vector_headers(**{"webhook-signature": "v1,g1hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}), VECTOR_BODY,
         VECTOR_TIMESTAMP, "bad_signature"),
        (vector_headers(), VECTOR_BODY, VECTOR_TIMESTAMP + 301, "timestamp_too_old"),
        (vector_headers(), VECTOR_BODY, VECTOR_TIMESTAMP - 301, "timestamp_too_new"),
        (vector_headers(**{"webhook-signature": VECTOR_SIGNATURE.replace("v1", "v2")}), VECTOR_BODY,
         VECTOR_TIMESTAMP, "malformed_signature"),
        (vector_headers(**{"webhook-timestamp": "1614265330.5"}), VECTOR_BODY, VECTOR_TIMESTAMP,
         "malformed_timestamp"),
        ({"webhook-id": VECTOR_ID, "webhook-timestamp": str(VECTOR_TIMESTAMP)}, VECTOR_BODY, VECTOR_TIMESTAMP,
         "missing_signature_headers"),
        (vector_headers(**{"webhook-id": "m" * 257}), VECTOR_BODY, VECTOR_TIMESTAMP, "malformed_webhook_id"),
        (vector_headers(**{"webhook-id": "msg\x00"}), VECTOR_BODY, VECTOR_TIMESTAMP, "malformed_webhook_id"),
    ],
    ids=["tampered-body", "tampered-timestamp", "tampered-id", "tampered-signature", "expired", "from-the-future",
         "unknown-version-only", "fractional-timestamp", "no-signature", "id-too-long", "id-with-control-character"],
)
def test_a_changed_or_stale_message_is_refused_with_its_reason(headers: dict[str, str], body: bytes, now: int,
                                                                reason: str) -> None:
    with pytest.raises(SignatureRejected) as refused:
        verify([KEY], headers, body, now=now)
    assert refused.value.reason == reason


def test_the_tolerance_is_inclusive_at_300_seconds_either_way() -> None:
    for now in (VECTOR_TIMESTAMP - 300, VECTOR_TIMESTAMP + 300):
        assert verify([KEY], vector_headers(), VECTOR_BODY, now=now).webhook_id == VECTOR_ID


def test_a_rotating_sender_may_send_several_signatures_and_one_matching_is_enough() -> None:
    stale = sign(OTHER_KEY, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY)
    headers = vector_headers(**{"webhook-signature": f"v1a,junk {stale} v1,%%% {VECTOR_SIGNATURE}"})
    assert verify([KEY], headers, VECTOR_BODY, now=VECTOR_TIMESTAMP).webhook_id == VECTOR_ID


def test_during_a_rotation_the_receiver_accepts_the_old_and_the_new_secret() -> None:
    for sender_key in (KEY, OTHER_KEY):
        signature = sign(sender_key, "msg_1", VECTOR_TIMESTAMP, b"{}")
        headers = {"webhook-id": "msg_1", "webhook-timestamp": str(VECTOR_TIMESTAMP), "webhook-signature": signature}
        assert verify([OTHER_KEY, KEY], headers, b"{}", now=VECTOR_TIMESTAMP).webhook_id == "msg_1"


def test_signatures_agree_with_the_reference_implementation_both_ways() -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    body = '{"type": "lock.offline", "data": {"lock_id": "70001"}}'
    theirs = Webhook(VECTOR_SECRET).sign("msg_ref", now, body)
    headers = {"webhook-id": "msg_ref", "webhook-timestamp": str(int(now.timestamp())), "webhook-signature": theirs}
    assert verify([KEY], headers, body.encode(), now=now.timestamp()).webhook_id == "msg_ref"
    ours = sign(KEY, "msg_ref", int(now.timestamp()), body.encode())
    assert Webhook(VECTOR_SECRET).verify(body, {**headers, "webhook-signature": ours}) is not None


@given(st.dictionaries(st.sampled_from(["webhook-id", "webhook-timestamp", "webhook-signature"]), st.text()),
       st.binary(max_size=64))
def test_no_header_content_fails_verification_with_anything_but_a_reason(headers: dict[str, str], body: bytes) -> None:
    with pytest.raises(SignatureRejected) as refused:
        verify([KEY], headers, body, now=VECTOR_TIMESTAMP)
    assert refused.value.reason in {"missing_signature_headers", "malformed_webhook_id", "malformed_timestamp",
                                    "timestamp_too_old", "timestamp_too_new", "malformed_signature", "bad_signature"}


def test_rotation_keeps_the_previous_secret_only_for_the_grace_period() -> None:
    now = datetime(2026, 12, 1, 10, tzinfo=UTC)
    endpoint = EndpointSecrets(signing=(SigningSecret(secret=SecretStr(VECTOR_SECRET)),))
    rotated = endpoint.rotated("whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldY", now=now, grace=timedelta(hours=1))
    assert rotated.keys(now) == [OTHER_KEY, KEY]
    assert rotated.keys(now + timedelta(hours=1)) == [OTHER_KEY]
    again = rotated.rotated(VECTOR_SECRET, now=now + timedelta(hours=2), grace=timedelta(hours=1))
    assert len(again.signing) == 2, "a secret past its grace period is dropped at the next rotation"


def test_a_malformed_new_secret_never_replaces_a_working_one() -> None:
    endpoint = EndpointSecrets(signing=(SigningSecret(secret=SecretStr(VECTOR_SECRET)),))
    with pytest.raises(ValueError, match="whsec_"):
        endpoint.rotated("whsec_not base64!", now=datetime.now(UTC), grace=timedelta(hours=1))


def test_secrets_serialise_masked_unless_revealed_for_sealing() -> None:
    endpoint = EndpointSecrets(signing=(SigningSecret(secret=SecretStr(VECTOR_SECRET)),),
                               path_secret=SecretStr("p4th-secret"))
    assert VECTOR_SECRET not in endpoint.model_dump_json()
    assert "p4th-secret" not in repr(endpoint)
    revealed = endpoint.model_dump_json(context=REVEAL)
    assert VECTOR_SECRET in revealed
    assert "p4th-secret" in revealed
    assert EndpointSecrets.model_validate_json(revealed).keys(datetime.now(UTC)) == [KEY]


def test_path_secrets_compare_equal_only_when_identical() -> None:
    assert same_secret("abc", "abc")
    assert not same_secret("abd", "abc")
    assert not same_secret("ab", "abc")
    assert not same_secret("\udcff", "abc")  # not encodable as UTF-8: refused, not crashed
