"""Generic Wiegand rules the contract suite relies on, checked against the encoder simulator over its ptys:
blocklist propagation, site-wide card numbers, encoder events, unplug/replug, and checksum refusals."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import serial_asyncio

from adapters.wiegand.client import WiegandClient
from adapters.wiegand.frames import Frame, PlainRead, encode_frame, parse_line
from adapters.wiegand.link import EncoderLink
from adapters.wiegand.mapping import to_hex6
from adapters.wiegand.webhook import CardRead, event_of
from app.domain.credential import CredentialKind
from app.domain.errors import DuplicateCredential, VendorUnavailable
from tests.contract.harness import VendorHarness
from tests.contract.harness_wiegand import FACILITY, WIEGAND
from tests.contract.requests import issue_request


@pytest.fixture
async def wiegand() -> AsyncIterator[VendorHarness]:
    async with WIEGAND.start() as harness:
        yield harness


async def test_a_card_encoded_after_a_revoke_carries_the_blocklist_to_the_locks(wiegand: VendorHarness) -> None:
    port, lock = wiegand.port, wiegand.lock(0)
    assert isinstance(port, WiegandClient)
    revoked = await port.issue(issue_request(wiegand, CredentialKind.CARD, lock))
    await port.revoke(lock, revoked.vendor_ref)

    follower = await port.issue(issue_request(wiegand, CredentialKind.CARD, lock))

    card = await port.read_back(lock)
    assert card.label == follower.label
    assert card.blocklist == (int(to_hex6(FACILITY, int(revoked.vendor_ref.rsplit(":", 1)[1])), 16),)


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
