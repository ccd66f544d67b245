"""Generic Wiegand's pure parts: H10301 bits and parity, the encoder's line protocol, times, refs and error codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.wiegand import errors, frames, mapping, webhook
from app.domain.errors import (
    CredentialNotFound,
    DuplicateCredential,
    GatewayBusy,
    InvalidRequest,
    VendorUnavailable,
)

BERLIN = ZoneInfo("Europe/Berlin")
facilities = st.integers(0, mapping.FACILITY_MAX)
cards = st.integers(0, mapping.CARD_MAX)


@pytest.mark.parametrize(
    ("facility", "card", "bits"),
    [
        # even parity | facility (8) | card number (16) | odd parity
        (0, 0, "0" + "00000000" + "0000000000000000" + "1"),
        (1, 1, "1" + "00000001" + "0000000000000001" + "0"),
        (18, 36929, "0" + "00010010" + "1001000001000001" + "1"),
        (255, 65535, "0" + "11111111" + "1111111111111111" + "1"),
        (128, 0, "1" + "10000000" + "0000000000000000" + "1"),
        (0, 1, "0" + "00000000" + "0000000000000001" + "0"),
    ],
)
def test_h10301_puts_facility_card_and_both_parity_bits_where_the_format_says(
    facility: int, card: int, bits: str
) -> None:
    assert len(bits) == 26
    assert mapping.encode_h10301(facility, card) == int(bits, 2)
    assert mapping.decode_h10301(int(bits, 2)) == (facility, card)


@given(facilities, cards)
def test_h10301_round_trips_every_facility_and_card(facility: int, card: int) -> None:
    assert mapping.decode_h10301(mapping.encode_h10301(facility, card)) == (facility, card)


@given(facilities, cards, st.integers(0, 25))
def test_any_single_flipped_bit_fails_the_parity_check(facility: int, card: int, bit: int) -> None:
    with pytest.raises(mapping.ParityError):
        mapping.decode_h10301(mapping.encode_h10301(facility, card) ^ 1 << bit)


@pytest.mark.parametrize(("facility", "card"), [(-1, 0), (256, 0), (0, -1), (0, 65536)])
def test_out_of_range_facility_codes_and_card_numbers_are_refused(facility: int, card: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        mapping.encode_h10301(facility, card)


def test_the_converter_carries_the_24_data_bits_as_six_upper_case_hex() -> None:
    assert mapping.to_hex6(42, 4711) == "2A1267"
    assert mapping.split_data(0x2A1267) == (42, 4711)


@pytest.mark.parametrize(
    ("moment", "wire"),
    [
        (datetime(2031, 3, 28, 15, 0, 17, tzinfo=BERLIN), "310328140017"),
        (datetime(2031, 4, 2, 11, 0, 43, tzinfo=BERLIN), "310402090043"),
        (datetime(2031, 1, 1, 5, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))), "310101000000"),
    ],
)
def test_card_times_are_utc_to_the_second_whatever_the_zone(moment: datetime, wire: str) -> None:
    assert mapping.to_wire_time(moment) == wire
    assert mapping.from_wire_time(wire) == moment


@pytest.mark.parametrize("moment", [datetime(2031, 1, 1), datetime(2100, 1, 1, tzinfo=UTC)])
def test_naive_times_and_years_beyond_two_digits_are_refused(moment: datetime) -> None:
    with pytest.raises(ValueError, match=r"aware|two-digit"):
        mapping.to_wire_time(moment)


REFS = mapping.CardRefs(b"c" * 32)


@pytest.mark.parametrize("ref", ["h10301:42", "h10301:256:1", "h10301t:", "h10301t:AAAA", "passcode:1",
                                 mapping.CardRefs(b"x" * 32).encode(42, 4711)])
def test_only_refs_made_with_the_tenants_key_decode(ref: str) -> None:
    assert REFS.decode(REFS.encode(42, 4711)) == (42, 4711)
    assert REFS.decode("h10301:42:4711") == (42, 4711), "a record from before the tokens can still be revoked"
    with pytest.raises(ValueError, match=r"Wiegand vendor_ref|outside"):
        REFS.decode(ref)


@pytest.mark.parametrize("secret", [None, "", "65536", "-1", "12a", "1" * 6])
def test_a_card_number_outside_0_to_65535_is_refused(secret: str | None) -> None:
    with pytest.raises(ValueError, match="card number"):
        mapping.card_number(secret)


def test_a_journal_entry_becomes_a_canonical_card_credential() -> None:
    credential = mapping.credential_from_journal("2A1267,310328140017,310402090043,lis-0123456789abcdef", REFS)

    assert credential.vendor_ref == REFS.encode(42, 4711)
    assert "4711" not in credential.vendor_ref, "the ref is a token, not the card number"
    assert credential.label == "lis-0123456789abcdef"
    assert credential.validity is not None
    assert credential.validity.starts_at == datetime(2031, 3, 28, 15, 0, 17, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("fields", "line"),
    [(("ST", "7"), b"@ST|7*4C\r"), (("OK", "12", "BL", "3"), b"@OK|12|BL|3*46\r"), (("EV", "0", "CARD", "IN"), None)],
)
def test_frames_carry_an_xor_checksum_of_their_body(fields: tuple[str, ...], line: bytes | None) -> None:
    encoded = frames.encode_frame(*fields)
    if line is not None:
        assert encoded == line
    assert frames.parse_line(encoded) == frames.Frame(fields)


@given(st.lists(st.from_regex(r"[A-Z0-9,+.-]{0,12}", fullmatch=True), min_size=1, max_size=6), st.integers(0, 9999))
def test_every_frame_round_trips(fields: list[str], seq: int) -> None:
    encoded = frames.encode_frame(fields[0], str(seq), *fields[1:])
    assert frames.parse_line(encoded) == frames.Frame((fields[0], str(seq), *fields[1:]))


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (b"@ST|7*00\r", frames.ChecksumError),
        (b"ST|7*4C\r", frames.FrameError),
        (b"@ST|7\r", frames.FrameError),
        (b"@ST*" + frames.checksum("ST").encode() + b"\r", frames.FrameError),  # no sequence number
        (b"\xff\xfe\r", frames.FrameError),
        (b"2a1267\r", frames.FrameError),  # the converter sends upper case only
        (b"@" + b"A" * 600 + b"\r", frames.FrameError),
    ],
)
def test_noise_and_corrupted_lines_are_refused(line: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        frames.parse_line(line)


@pytest.mark.parametrize("field", ["a|b", "a*b", "@", "a\rb", "é"])
def test_a_field_that_would_break_the_framing_is_refused(field: str) -> None:
    with pytest.raises(ValueError, match="framing"):
        frames.encode_frame("EN", "1", field)


@pytest.mark.parametrize(
    ("line", "event"),
    [
        (b"2A1267\r", webhook.CardRead(42, 4711)),
        (frames.encode_frame("EV", "0", "CARD", "IN"), webhook.CardSlot("in")),
        (frames.encode_frame("EV", "0", "CARD", "OUT"), webhook.CardSlot("out")),
    ],
)
def test_encoder_event_lines_parse_to_typed_events(line: bytes, event: webhook.EncoderEvent) -> None:
    assert webhook.parse_event_line(line) == event


def test_a_reply_is_not_an_event() -> None:
    with pytest.raises(ValueError, match="not an encoder event"):
        webhook.parse_event_line(frames.encode_frame("OK", "3", "ST", "SIM", "1", "0"))


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("BSY", GatewayBusy),
        ("DUP", DuplicateCredential),
        ("NC", VendorUnavailable),
        ("CK", VendorUnavailable),
        ("FR", VendorUnavailable),
        ("ZN", CredentialNotFound),
        ("NF", CredentialNotFound),
        ("ARG", InvalidRequest),
        ("??", VendorUnavailable),
    ],
)
def test_encoder_error_codes_map_to_the_canonical_tree(code: str, expected: type[Exception]) -> None:
    error = errors.translate(code, "text")
    assert type(error) is expected
    assert error.vendor_code == code


def test_a_card_ref_is_the_same_token_for_the_same_card_and_tells_nothing_without_the_key() -> None:
    assert REFS.encode(42, 4711) == REFS.encode(42, 4711)
    assert REFS.encode(42, 4711) != REFS.encode(42, 4712)
    assert REFS.encode(42, 4711) != mapping.CardRefs(b"d" * 32).encode(42, 4711), "another tenant, another token"
