"""Audit records as Merkle leaves: one canonical spelling per published record, nothing but an audit record inside.

``published_record`` and ``leaves_of`` are the builders the other audit tests use.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.audit.leaves import AuditLeaf, audit_leaf, by_tenant, canonical_json, read_leaf
from app.domain.audit_record import AuditRecord

AT = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def published_record(tenant: str, n: int) -> bytes:
    """The bytes the lock sagas publish on ``lock.audit`` for the ``n``-th decision of a tenant."""
    record = AuditRecord(record_id=f"{tenant}-r{n:06d}", tenant=tenant, region="eu-west", property="p1",
                         lock_id=f"door-{n % 7}", stay=f"{tenant}/p1/R{n}", actor="lis-worker",
                         action="issue.intent", outcome="decided", guest_ref=f"g_{n:08x}", cause="pms:c",
                         occurred_at=AT + timedelta(seconds=n))
    return record.model_dump_json().encode()


def leaves_of(tenant: str, count: int, start: int = 0) -> list[AuditLeaf]:
    """``count`` distinct leaves of ``tenant``, numbered from ``start``."""
    return [audit_leaf(published_record(tenant, n)) for n in range(start, start + count)]


def test_a_leaf_is_the_record_as_sorted_key_compact_json() -> None:
    leaf = audit_leaf(published_record("t1", 3))
    decoded = json.loads(leaf.data)
    assert list(decoded) == sorted(decoded)
    assert b" " not in leaf.data.replace(b"issue.intent", b"")
    assert (leaf.tenant, leaf.record_id) == ("t1", "t1-r000003")
    assert decoded["occurred_at"] == "2026-12-01T15:00:03Z"


@given(st.permutations(list(json.loads(published_record("t1", 1)).items())), st.sampled_from([None, 2]))
def test_the_same_record_spelled_differently_gives_the_same_leaf(items: list[tuple[str, object]],
                                                                 indent: int | None) -> None:
    respelled = json.dumps(dict(items), indent=indent).encode()
    assert audit_leaf(respelled) == audit_leaf(published_record("t1", 1))


def test_fields_the_publisher_left_out_stay_out_of_the_leaf() -> None:
    # A field added to the record model later (with a default) must not change older records' leaves.
    published = json.loads(published_record("t1", 1))
    del published["detail"]
    assert "detail" not in json.loads(audit_leaf(json.dumps(published).encode()).data)


@pytest.mark.parametrize("raw", [
    b"{not json",
    b"{}",
    json.dumps({**json.loads(published_record("t1", 1)), "guest_name": "Ada Lovelace"}).encode(),
    json.dumps({**json.loads(published_record("t1", 1)), "occurred_at": "yesterday"}).encode(),
])
def test_anything_but_an_audit_record_is_refused(raw: bytes) -> None:
    # extra fields are refused, so no guest PII can ride along into a leaf that can never be deleted
    with pytest.raises(ValueError):  # noqa: PT011 - pydantic's ValidationError is a ValueError
        audit_leaf(raw)


def test_a_stored_leaf_reads_back_only_in_canonical_form() -> None:
    leaf = audit_leaf(published_record("t1", 5))
    assert read_leaf(leaf.data).record_id == "t1-r000005"
    with pytest.raises(ValueError, match="canonical"):
        read_leaf(json.dumps(json.loads(leaf.data), indent=1).encode())


def test_canonical_json_keeps_unicode_as_utf8() -> None:
    assert canonical_json({"b": "é", "a": 1}) == '{"a":1,"b":"é"}'.encode()


def test_leaves_group_per_tenant_in_arrival_order() -> None:
    mixed = [leaves_of("a", 1, 0)[0], leaves_of("b", 1, 0)[0], leaves_of("a", 1, 1)[0]]
    groups = by_tenant(mixed)
    assert list(groups) == ["a", "b"]
    assert [leaf.record_id for leaf in groups["a"]] == ["a-r000000", "a-r000001"]
