"""The reservation router agent under Faust's ``test_context``: an in-memory channel in, an in-memory store."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

import agents.dead_letters
import agents.reservations
from app import runtime
from app.domain.directory import DirectoryLock, PropertyDirectory
from app.domain.lock_event import LockAction, LockCommand
from app.domain.reservation import ReservationEventType as T
from app.security.envelope import LocalKeyStore
from app.streams import app
from tests.builders import reservation

DIRECTORY = PropertyDirectory(tenant="t1", region="eu-west", property="p1", locks=(
    DirectoryLock(lock_id="door-101", vendor="ttlock", vendor_lock_id="10101", gateway_id="1", room="101"),
    DirectoryLock(lock_id="door-102", vendor="ttlock", vendor_lock_id="10102", gateway_id="1", room="102"),
    DirectoryLock(lock_id="lobby", vendor="ttlock", vendor_lock_id="19999", gateway_id="9", area="lobby",
                  guest_access=True),
))


class OneProperty:
    """A LockDirectory holding one property in memory."""

    async def property_directory(self, tenant: str, property_id: str) -> PropertyDirectory | None:
        return DIRECTORY if (tenant, property_id) == ("t1", "p1") else None


class NoVendor:
    async def port(self, tenant: str, property_id: str, vendor: object) -> object:
        raise AssertionError("the router never calls a vendor")


class NoCards:
    async def allocate(self, *args: object) -> int:
        raise AssertionError("the router never allocates a card number")

    async def extend(self, *args: object) -> None:
        raise AssertionError("the router never holds a card number")


@pytest.fixture
async def channels(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[object, object]]:
    app.finalize()
    commands, dead = app.channel(), app.channel()
    monkeypatch.setattr(agents.reservations, "lock_commands", commands)
    monkeypatch.setattr(agents.dead_letters, "lock_dlq", dead)
    runtime.install(runtime.Runtime(directory=OneProperty(), ports=NoVendor(),  # type: ignore[arg-type]
                                    keys=LocalKeyStore(bytes(32)), cards=NoCards()))
    # A channel delivers only to its subscribers: an iterator clone subscribes, and is what the test reads.
    yield commands.clone(is_iterator=True), dead.clone(is_iterator=True)
    runtime.install(None)


async def drain(channel: object, count: int) -> list[LockCommand]:
    events = [await channel.get(timeout=5) for _ in range(count)]  # type: ignore[attr-defined]
    return [LockCommand.model_validate_json(event.value) for event in events]


async def test_confirmation_sends_one_issue_command_per_lock_keyed_by_lock(channels: tuple[object, object]) -> None:
    commands, _ = channels
    async with agents.reservations.route_reservations.test_context() as agent:
        event = reservation()
        await agent.put(key=event.stay_id, value=event.model_dump_json().encode())
    sent = await drain(commands, 2)
    assert [(c.action, c.lock.lock_id) for c in sent] == [(LockAction.ISSUE, "door-101"), (LockAction.ISSUE, "lobby")]
    assert all(c.guest_ref and "guest-1" not in c.guest_ref for c in sent)


async def test_checkout_revokes_every_credential_of_the_stay(channels: tuple[object, object]) -> None:
    commands, _ = channels
    async with agents.reservations.route_reservations.test_context() as agent:
        for event in (reservation(res="R7"), reservation(T.CHECKED_OUT, res="R7", sequence=2)):
            await agent.put(key=event.stay_id, value=event.model_dump_json().encode())
    sent = await drain(commands, 4)
    assert [(c.action, c.lock.lock_id) for c in sent[2:]] == [(LockAction.REVOKE, "door-101"),
                                                              (LockAction.REVOKE, "lobby")]


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("t1/p1/R1", b"{oops", "malformed reservation event"),
        ("nobody/p1/R1", reservation(tenant="nobody").model_dump_json().encode(), "unknown property"),
        ("t1/p1/R1", reservation(rooms=("999",)).model_dump_json().encode(), "rooms without locks"),
        ("t1/p1/R1", reservation(res="R2").model_dump_json().encode(),
         "reservation event keyed 't1/p1/R1', not by its stay 't1/p1/R2'"),
    ],
)
async def test_bad_input_becomes_a_dead_letter_with_its_reason(channels: tuple[object, object], key: str,
                                                               value: bytes, reason: str) -> None:
    _, dead = channels
    async with agents.reservations.route_reservations.test_context() as agent:
        await agent.put(key=key, value=value)
    letter = await dead.get(timeout=5)  # type: ignore[attr-defined]
    assert reason in letter.value.decode()
    assert letter.key == key


async def test_a_malformed_event_s_reason_names_the_fields_but_never_quotes_the_guest(
        channels: tuple[object, object]) -> None:
    _, dead = channels
    value = b'{"tenant": "t1", "guest_id": "Anna Geheim", "guest_name": "Anna Geheim", "rooms": 7}'
    async with agents.reservations.route_reservations.test_context() as agent:
        await agent.put(key="t1/p1/R1", value=value)
    letter = json.loads((await dead.get(timeout=5)).value)  # type: ignore[attr-defined]
    assert letter["reason"].startswith("malformed reservation event: ")
    assert "guest_name: Extra inputs are not permitted [extra_forbidden]" in letter["reason"]
    assert "event_id: Field required [missing]" in letter["reason"]
    assert "Anna" not in letter["reason"]
