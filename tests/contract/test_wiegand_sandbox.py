"""Generic Wiegand rules the contract suite relies on, checked against the encoder simulator over its ptys:
blocklist propagation, site-wide card numbers, encoder events, unplug/replug, checksum refusals, and the journal of
what the doors really applied (``GET /sandbox/journal``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import serial_asyncio_fast as serial_asyncio

from adapters.wiegand.client import WiegandClient
from adapters.wiegand.frames import Frame, PlainRead, encode_frame, parse_line
from adapters.wiegand.link import EncoderLink
from adapters.wiegand.mapping import to_hex6
from adapters.wiegand.webhook import CardRead, event_of
from app.domain.credential import CredentialKind
from app.domain.errors import DuplicateCredential, Unsupported, VendorTimeout, VendorUnavailable
from tests.contract.harness import VendorHarness
from tests.contract.harness_wiegand import FACILITY, WIEGAND
from tests.contract.requests import issue_request, stay


@pytest.fixture
async def wiegand() -> AsyncIterator[VendorHarness]:
    async with WIEGAND.start() as harness:
        yield harness


async def test_a_card_encoded_after_a_revoke_carries_the_blocklist_to_the_locks(wiegand: VendorHarness) -> None:
    port, lock = wiegand.port, wiegand.lock(0)
    assert isinstance(port, WiegandClient)
    request = issue_request(wiegand, CredentialKind.CARD, lock)
    revoked = await port.issue(request)
    await port.revoke(lock, revoked.vendor_ref)

    follower = await port.issue(issue_request(wiegand, CredentialKind.CARD, lock))

    card = await port.read_back(lock)
    assert card.label == follower.label
    assert card.blocklist == (int(to_hex6(FACILITY, int(request.secret or "")), 16),)


async def test_a_live_card_number_is_refused_again_even_for_another_zone(wiegand: VendorHarness) -> None:
    first = issue_request(wiegand, CredentialKind.CARD, wiegand.lock(0))
    await wiegand.port.issue(first)

    with pytest.raises(DuplicateCredential):
        await wiegand.port.issue(issue_request(wiegand, CredentialKind.CARD, wiegand.lock(2), secret=first.secret))


async def test_a_card_read_at_the_encoder_reaches_the_host_as_an_event(wiegand: VendorHarness) -> None:
    events: list[Frame | PlainRead] = []
    port_path = (await wiegand.admin.get("/sandbox/encoders")).json()[0]["port"]
    link = EncoderLink(port_path, timeout_s=1.0, on_event=events.append)
    try:
        await link.exchange("ST")  # opens the port
        line = to_hex6(FACILITY, 4711)
        (await wiegand.admin.post("/sandbox/encoders/enc-a/lines", json={"line": line})).raise_for_status()
        for _ in range(50):
            if events:
                break
            await asyncio.sleep(0.01)
    finally:
        await link.aclose()

    assert [event_of(e) for e in events] == [CardRead(FACILITY, 4711)]


async def test_the_adapter_recovers_once_the_encoder_is_plugged_back_in(wiegand: VendorHarness) -> None:
    lock = wiegand.lock(0)
    await wiegand.port.list_credentials(lock)  # the port is open
    await wiegand.take_gateway_offline(lock)

    with pytest.raises(VendorUnavailable):
        await wiegand.port.issue(issue_request(wiegand, CredentialKind.CARD, lock))
    (await wiegand.admin.post("/sandbox/encoders", json={"encoderId": "enc-a", "plugged": True})).raise_for_status()

    issued = await wiegand.port.issue(issue_request(wiegand, CredentialKind.CARD, lock))
    assert [c.vendor_ref for c in await wiegand.port.list_credentials(lock)] == [issued.vendor_ref]


async def test_the_encoder_refuses_a_frame_with_a_bad_checksum_with_ck(wiegand: VendorHarness) -> None:
    port_path = (await wiegand.admin.get("/sandbox/encoders")).json()[0]["port"]
    reader, writer = await serial_asyncio.open_serial_connection(url=port_path, baudrate=9600)
    try:
        good = encode_frame("ST", "5")
        writer.write(good[:-3] + b"00\r")  # the checksum digits garbled on the wire
        refused = parse_line(await asyncio.wait_for(reader.readuntil(b"\r"), 1.0))
        writer.write(good)
        answered = parse_line(await asyncio.wait_for(reader.readuntil(b"\r"), 1.0))
    finally:
        writer.close()

    assert isinstance(refused, Frame)
    assert refused.fields[:3] == ("ER", "0", "CK")
    assert isinstance(answered, Frame)
    assert answered.fields[:3] == ("OK", "5", "ST")


async def _journal(wiegand: VendorHarness) -> list[dict[str, Any]]:
    answer = await wiegand.admin.get("/sandbox/journal")
    answer.raise_for_status()
    entries: list[dict[str, Any]] = answer.json()
    return entries


async def test_the_journal_records_a_card_written_and_its_revoke_as_blocklisted(wiegand: VendorHarness) -> None:
    lock = wiegand.lock(0)
    request = issue_request(wiegand, CredentialKind.CARD, lock)
    issued = await wiegand.port.issue(request)
    with pytest.raises(Unsupported):
        await wiegand.port.update_validity(lock, issued.vendor_ref, stay(nights=3))
    await wiegand.port.revoke(lock, issued.vendor_ref)

    issue, revoke = await _journal(wiegand)

    assert request.secret is not None
    window = (int(request.validity.starts_at.timestamp() * 1000), int(request.validity.ends_at.timestamp() * 1000))
    for entry in (issue, revoke):
        assert (entry["lock"], entry["credential"], entry["kind"], entry["label"], entry["secret"]) == (
            "room-101", to_hex6(FACILITY, int(request.secret)), "card", request.label, request.secret
        )
        assert (entry["validFrom"], entry["validUntil"]) == window
    assert (issue["seq"], issue["op"], "blocklisted" in issue) == (1, "issue", False)
    assert (revoke["seq"], revoke["op"], revoke["blocklisted"]) == (2, "revoke", True)


async def test_a_refused_encoding_writes_nothing_in_the_journal(wiegand: VendorHarness) -> None:
    lock = wiegand.lock(0)
    await wiegand.inject("no_card", count=1)

    with pytest.raises(VendorUnavailable):
        await wiegand.port.issue(issue_request(wiegand, CredentialKind.CARD, lock))

    assert await _journal(wiegand) == []


async def test_an_encoding_executed_then_timed_out_is_journaled_once(wiegand: VendorHarness) -> None:
    lock, port = wiegand.lock(0), wiegand.make_port(timeout_s=0.2)
    await wiegand.inject("executed_then_timeout", count=1, only="EN")

    with pytest.raises(VendorTimeout):
        await port.issue(issue_request(wiegand, CredentialKind.CARD, lock))

    assert [e["op"] for e in await _journal(wiegand)] == ["issue"]


async def test_a_duplicate_delivery_of_an_encoding_journals_one_card(wiegand: VendorHarness) -> None:
    lock = wiegand.lock(0)
    await wiegand.inject("duplicate_delivery", count=1, only="EN")

    await wiegand.port.issue(issue_request(wiegand, CredentialKind.CARD, lock))

    # The echoed EN finds its card number live and is refused: one card, one entry.
    assert [e["op"] for e in await _journal(wiegand)] == ["issue"]
