"""``lis hil wiegand``: the hardware-in-the-loop checklist of a Generic Wiegand card encoder.

The same automated checklist runs against the pty simulator (the default, and in the tests) and against a real
encoder (``--port /dev/ttyUSB0``): encode a card, read it back, check its H10301 parity, its validity, the blocklist
carried by the next card, and recovery after the encoder is unplugged and plugged in again. On a real encoder the
operator is asked to pull and replug the cable; blank cards must be on the encoder's feeder.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from adapters.wiegand.client import WiegandClient, WiegandConfig
from adapters.wiegand.mapping import CardRefs, ParityError, decode_h10301, split_data
from adapters.wiegand.sandbox import WiegandSandbox
from app.domain.credential import CredentialKind, IssueRequest, LockRef, Validity, credential_label
from app.domain.errors import LockError

hil_cli = typer.Typer(no_args_is_help=True, help="Hardware-in-the-loop checklists for lock hardware.")
Step = Callable[[], Awaitable[None]]
RECORDS = Path("docs/evidence/hil")


@hil_cli.callback()
def hil() -> None:
    """Hardware-in-the-loop checklists: the simulator by default, a real device with --port."""


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


async def run_checklist(
    port: str, *, zone: str, facility: int, first_card: int, unplug: Step, replug: Step, timeout_s: float = 3.0
) -> list[Check]:
    """Run every check against the encoder on ``port``; a failed check is reported, and the later ones still run."""
    card_key = secrets.token_bytes(32)  # a bench run's own card-token key: its refs mean nothing elsewhere
    client = WiegandClient(WiegandConfig(encoders={"hil": port}, facility_code=facility, timeout_s=timeout_s),
                           card_key=card_key)
    lock = LockRef(
        tenant="hil",
        region="bench",
        property="bench",
        lock_id=f"hil-{zone}",
        vendor="wiegand",
        vendor_lock_id=zone,
        gateway_id="hil",
    )
    now = datetime.now(UTC).replace(microsecond=0)
    window = Validity(starts_at=now, ends_at=now + timedelta(hours=2, seconds=17))
    cards = iter(range(first_card, first_card + 3))
    checks: list[Check] = []

    def issue_request(card: int) -> IssueRequest:
        return IssueRequest(
            lock=lock,
            kind=CredentialKind.CARD,
            validity=window,
            label=credential_label(f"hil-{card}"),
            secret=str(card),
        )

    async def check(name: str, step: Callable[[], Awaitable[str]]) -> None:
        try:
            checks.append(Check(name, True, await step()))
        except (LockError, AssertionError, ValueError) as err:
            checks.append(Check(name, False, f"{type(err).__name__}: {err}"))

    first = next(cards)

    async def encoder_answers() -> str:
        status = await client.lock_status(lock)
        assert status.online, f"no answer on {port}"
        return f"answers on {port}"

    async def encode() -> str:
        issued = await client.issue(issue_request(first))
        return f"wrote {issued.vendor_ref}"

    async def read_back() -> str:
        card = await client.read_back(lock)
        assert card.label == issue_request(first).label, f"label {card.label!r} read back"
        assert zone in card.zones, f"zones {card.zones} read back"
        return f"label and zone {zone} read back"

    async def parity() -> str:
        raw = (await client.read_back(lock)).raw
        assert decode_h10301(raw) == (facility, first), f"bits {raw:07X} are card {decode_h10301(raw)}"
        try:
            decode_h10301(raw ^ 1 << 25)
        except ParityError:
            return f"{raw:07X}: parity good, a flipped bit is caught"
        raise AssertionError("a flipped parity bit went unnoticed")

    async def validity() -> str:
        card = await client.read_back(lock)
        assert card.validity == window, f"read back {card.validity}, wrote {window}"
        return f"{window.starts_at.isoformat()} .. {window.ends_at.isoformat()}"

    async def blocklist() -> str:
        await client.revoke(lock, CardRefs(card_key).encode(facility, first))
        follower = next(cards)
        await client.issue(issue_request(follower))
        carried = [split_data(data) for data in (await client.read_back(lock)).blocklist]
        assert (facility, first) in carried, f"card {follower} carries {carried}"
        return f"card {follower} carries the blocklisted card {first}"

    async def recovery() -> str:
        await unplug()
        assert not (await client.lock_status(lock)).online, "the encoder still answers while unplugged"
        await replug()
        last = next(cards)
        await client.issue(issue_request(last))
        return f"offline while unplugged; card {last} written after replugging"

    try:
        for name, step in [
            ("encoder answers", encoder_answers),
            ("encode", encode),
            ("read back", read_back),
            ("parity", parity),
            ("validity", validity),
            ("blocklist", blocklist),
            ("unplug/replug recovery", recovery),
        ]:
            await check(name, step)
    finally:
        await client.aclose()
    return checks


async def run_on_simulator(zone: str, facility: int, first_card: int) -> list[Check]:
    """The checklist against the pty simulator, which is unplugged and replugged by the checklist itself."""
    with tempfile.TemporaryDirectory(prefix="lis-hil-") as link_dir:
        sandbox = WiegandSandbox(encoders=["hil"], zones=[zone], link_dir=Path(link_dir))
        async with sandbox.running():

            async def unplug() -> None:
                sandbox.set_plugged("hil", False)

            async def replug() -> None:
                sandbox.set_plugged("hil", True)

            return await run_checklist(
                sandbox.port_of("hil"),
                zone=zone,
                facility=facility,
                first_card=first_card,
                unplug=unplug,
                replug=replug,
            )


def record_result(folder: Path, port: str | None, checks: list[Check]) -> Path:
    """The checklist's dated result: on which port (or the simulator), each check and its outcome."""
    now = datetime.now(UTC).replace(microsecond=0)
    result = {"date": now.isoformat(), "port": port or "pty simulator", "simulator": port is None,
              "checks": [asdict(item) for item in checks]}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{now:%Y-%m-%dT%H%M%SZ}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path


async def _ask(question: str) -> None:
    await asyncio.to_thread(typer.prompt, question, default="done", show_default=False)


@hil_cli.command("wiegand")
def hil_wiegand(
    port: Annotated[str | None, typer.Option(help="The encoder's serial port; default: the pty simulator.")] = None,
    zone: Annotated[str, typer.Option(help="A zone the encoder knows (use a test zone on a real site).")] = "staff",
    facility: Annotated[int, typer.Option(min=0, max=255, help="The site's facility code.")] = 42,
    card: Annotated[int | None, typer.Option(min=0, max=65533, help="First of three test card numbers.")] = None,
    record: Annotated[Path, typer.Option(help="Where the dated result goes (`lis readiness` reads it).")] = RECORDS,
) -> None:
    """Run the Generic Wiegand checklist: encode, read back, parity, validity, blocklist, unplug/replug; record the
    dated result."""
    first = card if card is not None else secrets.randbelow(60_000) + 1
    if port is None:
        checks = asyncio.run(run_on_simulator(zone, facility, first))
    else:
        checks = asyncio.run(
            run_checklist(
                port,
                zone=zone,
                facility=facility,
                first_card=first,
                unplug=lambda: _ask("Unplug the encoder now, then press Enter"),
                replug=lambda: _ask("Plug the encoder back in, wait 2 s, press Enter"),
            )
        )
    for item in checks:
        typer.echo(f"[{'PASS' if item.ok else 'FAIL'}] {item.name}: {item.detail}")
    failed = sum(not item.ok for item in checks)
    typer.echo(f"{len(checks) - failed} passed, {failed} failed; recorded in {record_result(record, port, checks)}")
    raise typer.Exit(1 if failed else 0)
