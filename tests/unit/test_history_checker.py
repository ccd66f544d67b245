"""The history checker judges journals it is handed: each problem it names is found, and a clean history is clean."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app.domain.directory import DirectoryLock, PropertyDirectory
from app.domain.reservation import ReservationEvent
from tests.checker import check, label_of

DIRECTORY = PropertyDirectory(tenant="acme", region="eu-west", property="p1", locks=(
    DirectoryLock(lock_id="door-1", vendor="ttlock", vendor_lock_id="501", room="101"),
    DirectoryLock(lock_id="door-2", vendor="ttlock", vendor_lock_id="502", room="102"),
    DirectoryLock(lock_id="door-3", vendor="wiegand", vendor_lock_id="z3", room="103"),
))
ARRIVAL = datetime(2026, 12, 1, 15, tzinfo=UTC)
STAY = "acme/p1/R1"


def event(kind: str, sequence: int, rooms: tuple[str, ...] = ("101",), nights: int = 2, **fields: Any
          ) -> ReservationEvent:
    stay = {"rooms": rooms, "arrival": ARRIVAL, "departure": ARRIVAL + timedelta(days=nights)}
    return ReservationEvent(event_id=f"{kind}-{sequence}", type=f"reservation.{kind}", tenant="acme",
                            region="eu-west", property="p1", reservation="R1", sequence=sequence,
                            occurred_at=ARRIVAL, **(stay if kind in {"confirmed", "modified"} else {}), **fields)


class Journal:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def add(self, op: str, lock: str, credential: str, *, lock_id: str = "door-1", sequence: int = 1,
            nights: int = 2, kind: str = "passcode", secret: str | None = "123456", label: str | None = None) -> None:
        start = int(ARRIVAL.timestamp() * 1000)
        self.entries.append({
            "seq": len(self.entries) + 1, "at": 1000 * (len(self.entries) + 1), "op": op, "lock": lock,
            "credential": credential, "kind": kind, "secret": secret,
            "label": label or label_of("acme", "eu-west", lock_id, STAY, sequence),
            "validFrom": start, "validUntil": start + nights * 86_400_000})


def test_one_live_credential_for_the_stay_window_is_clean() -> None:
    journal = Journal()
    journal.add("issue", "501", "c1")
    report = check(DIRECTORY, [event("confirmed", 1)], {"ttlock": journal.entries})
    assert report.clean, report.summary()


def test_a_second_credential_for_the_same_stay_is_a_duplicate() -> None:
    journal = Journal()
    journal.add("issue", "501", "c1")
    journal.add("issue", "501", "c2")
    report = check(DIRECTORY, [event("confirmed", 1)], {"ttlock": journal.entries})
    assert report.counts["duplicates"] == 1


def test_a_credential_revoked_before_the_stay_ended_leaves_it_missing() -> None:
    journal = Journal()
    journal.add("issue", "501", "c1")
    journal.add("revoke", "501", "c1")
    report = check(DIRECTORY, [event("confirmed", 1)], {"ttlock": journal.entries})
    assert report.counts["missing"] == 1


def test_a_checked_out_guest_whose_credential_stays_is_unrevoked() -> None:
    journal = Journal()
    journal.add("issue", "501", "c1")
    report = check(DIRECTORY, [event("confirmed", 1), event("checked_out", 2)], {"ttlock": journal.entries})
    assert report.counts == {**report.counts, "unrevoked": 1, "missing": 0}


def test_a_room_move_needs_the_old_door_revoked_and_the_new_one_issued() -> None:
    journal = Journal()
    journal.add("issue", "501", "c1")
    events = [event("confirmed", 1), event("modified", 2, rooms=("102",))]
    report = check(DIRECTORY, events, {"ttlock": journal.entries})
    assert (report.counts["unrevoked"], report.counts["missing"]) == (1, 1)
    journal.add("revoke", "501", "c1")
    journal.add("issue", "502", "c2", lock_id="door-2", sequence=2)
    assert check(DIRECTORY, events, {"ttlock": journal.entries}).clean


def test_a_date_change_the_lock_never_got_is_a_wrong_window_until_updated() -> None:
    journal = Journal()
    journal.add("issue", "501", "c1")
    events = [event("confirmed", 1), event("modified", 2, nights=3)]
    assert check(DIRECTORY, events, {"ttlock": journal.entries}).counts["wrong_window"] == 1
    journal.add("update", "501", "c1", nights=3)
    assert check(DIRECTORY, events, {"ttlock": journal.entries}).clean


def test_an_older_revision_delivered_late_changes_nothing() -> None:
    journal = Journal()
    journal.add("issue", "501", "c1", nights=3, sequence=1)
    events = [event("confirmed", 1), event("modified", 3, nights=3), event("modified", 2, nights=5)]
    assert check(DIRECTORY, events, {"ttlock": journal.entries}).clean


def test_a_credential_with_our_prefix_no_stay_owns_is_an_orphan_and_a_foreign_one_is_ignored() -> None:
    journal = Journal()
    journal.add("issue", "501", "c1")
    journal.add("issue", "502", "c9", label="lis-0000000000000000")
    journal.add("issue", "502", "c10", label="front-desk-manual")
    report = check(DIRECTORY, [event("confirmed", 1)], {"ttlock": journal.entries})
    assert report.counts == {**report.counts, "orphans": 1}
    assert sum(report.counts.values()) == 1


def test_a_card_number_live_for_two_stays_at_once_is_shared() -> None:
    journal = Journal()
    journal.add("issue", "z3", "2A0007", lock_id="door-3", kind="card", secret="7")
    journal.add("issue", "z3", "2A0008", lock_id="door-3", kind="card", secret="7", label="lis-ffffffffffffffff")
    events = [event("confirmed", 1, rooms=("103",), credential_kind="card")]
    assert check(DIRECTORY, events, {"wiegand": journal.entries}).counts["shared_cards"] == 1


def test_a_blocklisted_card_shares_its_number_until_its_window_ends() -> None:
    """An offline lock honours a blocklisted card until it expires: its number given to another guest before then is
    shared; a credential really removed from the lock frees its number at once."""
    events = [event("confirmed", 1, rooms=("103",), credential_kind="card")]
    stranger = "lis-ffffffffffffffff"
    blocklisted = Journal()
    blocklisted.add("issue", "z3", "2A0008", lock_id="door-3", kind="card", secret="7", label=stranger)
    blocklisted.add("revoke", "z3", "2A0008", lock_id="door-3", kind="card", secret="7", label=stranger)
    blocklisted.entries[-1]["blocklisted"] = True
    blocklisted.add("issue", "z3", "2A0007", lock_id="door-3", kind="card", secret="7")
    assert check(DIRECTORY, events, {"wiegand": blocklisted.entries}).counts["shared_cards"] == 1
    removed = Journal()
    removed.add("issue", "5", "c8", lock_id="door-3", kind="card", secret="7", label=stranger)
    removed.add("revoke", "5", "c8", lock_id="door-3", kind="card", secret="7", label=stranger)
    removed.add("issue", "5", "c7", lock_id="door-3", kind="card", secret="7")
    on_ttlock = DIRECTORY.model_copy(update={"locks": (*DIRECTORY.locks[:2], DirectoryLock(
        lock_id="door-3", vendor="ttlock", vendor_lock_id="5", room="103"))})
    report = check(on_ttlock, events, {"ttlock": removed.entries})
    assert report.clean, report.summary()


def test_a_credential_of_the_wrong_kind_is_named() -> None:
    journal = Journal()
    journal.add("issue", "501", "c1", kind="passcode")
    confirmed = event("confirmed", 1, credential_kind="mobile_key", mobile_key_account="guest@example.com")
    report = check(DIRECTORY, [confirmed], {"ttlock": journal.entries})
    assert report.counts["wrong_kind"] == 1


def test_another_propertys_locks_and_events_are_not_judged() -> None:
    journal = Journal()
    journal.add("issue", "999", "c1")
    other = event("confirmed", 1).model_copy(update={"property": "p2"})
    assert check(DIRECTORY, [other], {"ttlock": journal.entries}).clean
