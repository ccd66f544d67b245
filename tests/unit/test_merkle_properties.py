"""Properties of app.audit.merkle on random trees, checked against a literal transcription of RFC 6962 §2.1."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.audit.merkle import (
    EMPTY_ROOT,
    GetNode,
    InvalidProofError,
    consistency_proof,
    consistency_proof_from_store,
    inclusion_proof,
    inclusion_proof_from_store,
    leaf_hash,
    node_hash,
    nodes_to_store_after_append,
    root_from_store,
    tree_root,
    verify_consistency,
    verify_inclusion,
)

sizes = st.integers(min_value=1, max_value=300)
salts = st.binary(max_size=8)
SETTINGS = settings(max_examples=150, deadline=None)


def make_leaves(size: int, salt: bytes) -> list[bytes]:
    return [leaf_hash(salt + i.to_bytes(4, "big")) for i in range(size)]


class NodeStore(dict[tuple[int, int], bytes]):
    """The node table: reading a node that was never stored raises KeyError and fails the test."""

    def get_node(self, level: int, index: int) -> bytes:
        return self[level, index]


def build_store(leaves: list[bytes]) -> NodeStore:
    """Append leaf by leaf, as the audit writer does, keeping only what the appends ask to store."""
    store = NodeStore()
    for size_before, leaf in enumerate(leaves):
        for node in nodes_to_store_after_append(size_before, leaf, store.get_node):
            store[node.level, node.index] = node.hash
    return store


class Rfc6962:
    """MTH, PATH and PROOF exactly as RFC 6962 §2.1 recurses, on leaf ranges, memoising MTH."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.leaves = leaves
        self.memo: dict[tuple[int, int], bytes] = {}

    @staticmethod
    def split(n: int) -> int:
        k = 1
        while k * 2 < n:
            k *= 2
        return k

    def mth(self, lo: int, hi: int) -> bytes:
        if (lo, hi) not in self.memo:
            if hi - lo == 1:
                self.memo[lo, hi] = self.leaves[lo]
            else:
                k = self.split(hi - lo)
                self.memo[lo, hi] = node_hash(self.mth(lo, lo + k), self.mth(lo + k, hi))
        return self.memo[lo, hi]

    def path(self, m: int, lo: int, hi: int) -> list[bytes]:
        if hi - lo == 1:
            return []
        k = self.split(hi - lo)
        if m < k:
            return [*self.path(m, lo, lo + k), self.mth(lo + k, hi)]
        return [*self.path(m - k, lo + k, hi), self.mth(lo, lo + k)]

    def subproof(self, m: int, lo: int, hi: int, complete: bool) -> list[bytes]:
        if m == hi - lo:
            return [] if complete else [self.mth(lo, hi)]
        k = self.split(hi - lo)
        if m <= k:
            return [*self.subproof(m, lo, lo + k, complete), self.mth(lo + k, hi)]
        return [*self.subproof(m - k, lo + k, hi, False), self.mth(lo, lo + k)]


def flip_bit(value: bytes, bit: int) -> bytes:
    bit %= len(value) * 8
    flipped = bytearray(value)
    flipped[bit // 8] ^= 1 << (bit % 8)
    return bytes(flipped)


@SETTINGS
@given(size=sizes, salt=salts)
def test_appends_store_exactly_the_complete_subtrees(size: int, salt: bytes) -> None:
    store = build_store(make_leaves(size, salt))
    complete = {(level, i) for level in range(size.bit_length()) for i in range(size >> level)}
    assert set(store) == complete


@SETTINGS
@given(size=sizes, salt=salts)
def test_store_root_of_every_prefix_equals_the_rfc_mth(size: int, salt: bytes) -> None:
    leaves = make_leaves(size, salt)
    store, rfc = build_store(leaves), Rfc6962(leaves)
    assert tree_root(leaves) == rfc.mth(0, size)
    for n in range(1, size + 1):
        assert root_from_store(n, store.get_node) == rfc.mth(0, n)


def test_empty_tree_root_is_the_hash_of_nothing() -> None:
    assert tree_root([]) == root_from_store(0, NodeStore().get_node) == EMPTY_ROOT


@SETTINGS
@given(size=sizes, salt=salts, data=st.data())
def test_every_inclusion_proof_from_the_store_equals_the_rfc_path_and_verifies(
    size: int, salt: bytes, data: st.DataObject
) -> None:
    leaves = make_leaves(size, salt)
    store, rfc = build_store(leaves), Rfc6962(leaves)
    root = rfc.mth(0, size)
    for index in range(size):
        proof = inclusion_proof_from_store(index, size, store.get_node)
        assert proof == rfc.path(index, 0, size)
        verify_inclusion(leaves[index], index, size, proof, root)
    index = data.draw(st.integers(0, size - 1), label="index")
    assert inclusion_proof(index, leaves) == rfc.path(index, 0, size)


@SETTINGS
@given(size2=sizes, salt=salts, data=st.data())
def test_consistency_proofs_from_every_smaller_size_equal_the_rfc_proof_and_verify(
    size2: int, salt: bytes, data: st.DataObject
) -> None:
    leaves = make_leaves(size2, salt)
    store, rfc = build_store(leaves), Rfc6962(leaves)
    root2 = rfc.mth(0, size2)
    for size1 in range(1, size2 + 1):
        proof = consistency_proof_from_store(size1, size2, store.get_node)
        assert proof == rfc.subproof(size1, 0, size2, True)
        verify_consistency(size1, size2, proof, rfc.mth(0, size1), root2)
    size1 = data.draw(st.integers(1, size2), label="size1")
    assert consistency_proof(size1, leaves) == rfc.subproof(size1, 0, size2, True)


@SETTINGS
@given(size=sizes, salt=salts, data=st.data(), bit=st.integers(min_value=0))
def test_a_single_flipped_bit_in_an_inclusion_proof_leaf_or_root_is_refused(
    size: int, salt: bytes, data: st.DataObject, bit: int
) -> None:
    leaves = make_leaves(size, salt)
    index = data.draw(st.integers(0, size - 1), label="index")
    proof, root = inclusion_proof(index, leaves), tree_root(leaves)
    targets = ["leaf", "root"] + [f"proof[{i}]" for i in range(len(proof))]
    target = data.draw(st.sampled_from(targets), label="target")
    leaf = flip_bit(leaves[index], bit) if target == "leaf" else leaves[index]
    root = flip_bit(root, bit) if target == "root" else root
    proof = [flip_bit(node, bit) if target == f"proof[{i}]" else node for i, node in enumerate(proof)]
    with pytest.raises(InvalidProofError):
        verify_inclusion(leaf, index, size, proof, root)


@SETTINGS
@given(size2=sizes, salt=salts, data=st.data(), bit=st.integers(min_value=0))
def test_a_single_flipped_bit_in_a_consistency_proof_or_either_root_is_refused(
    size2: int, salt: bytes, data: st.DataObject, bit: int
) -> None:
    leaves = make_leaves(size2, salt)
    size1 = data.draw(st.integers(1, size2), label="size1")
    proof = consistency_proof(size1, leaves)
    root1, root2 = tree_root(leaves[:size1]), tree_root(leaves)
    targets = ["root1", "root2"] + [f"proof[{i}]" for i in range(len(proof))]
    target = data.draw(st.sampled_from(targets), label="target")
    root1 = flip_bit(root1, bit) if target == "root1" else root1
    root2 = flip_bit(root2, bit) if target == "root2" else root2
    proof = [flip_bit(node, bit) if target == f"proof[{i}]" else node for i, node in enumerate(proof)]
    with pytest.raises(InvalidProofError):
        verify_consistency(size1, size2, proof, root1, root2)


@pytest.mark.parametrize(
    ("make_call", "message"),
    [
        pytest.param(lambda get: inclusion_proof_from_store(3, 3, get), "not in a tree", id="index-past-end"),
        pytest.param(lambda get: consistency_proof_from_store(0, 3, get), "no consistency", id="from-empty"),
        pytest.param(lambda get: consistency_proof_from_store(4, 3, get), "no consistency", id="shrinking"),
        pytest.param(lambda get: root_from_store(-1, get), "negative", id="negative-size"),
    ],
)
def test_generators_refuse_impossible_sizes(make_call: Callable[[GetNode], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_call(build_store(make_leaves(3, b"")).get_node)
