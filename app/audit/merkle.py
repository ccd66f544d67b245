"""RFC 6962 / RFC 9162 Merkle trees over SHA-256: hashes, proofs and their verification.

Nodes are addressed as ``(level, index)``: the complete subtree at level ``L`` and index ``i`` covers
leaves ``[i * 2**L, (i + 1) * 2**L)``; level 0 holds the leaf hashes. A store that keeps every complete
subtree (what :func:`nodes_to_store_after_append` yields) can serve roots and proofs for any tree size
through a ``get_node(level, index)`` callback, reading O(log² n) nodes and never rehashing leaves.

The nodes a ``*_from_store`` function reads depend only on the sizes and index asked for, never on hash
values, so a store may first run it with a recording callback returning placeholders, fetch exactly those
nodes in one query, then run it again.

Verifiers raise :class:`InvalidProofError`; generators raise :class:`ValueError` for impossible sizes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

GetNode = Callable[[int, int], bytes]


class InvalidProofError(ValueError):
    """A proof, hash or tree size does not prove what it claims."""


@dataclass(frozen=True, slots=True)
class Node:
    """The hash of the complete subtree covering leaves ``[index << level, (index + 1) << level)``."""

    level: int
    index: int
    hash: bytes


def leaf_hash(data: bytes) -> bytes:
    """The RFC 6962 leaf hash ``SHA-256(0x00 || data)``."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The RFC 6962 interior node hash ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def tree_root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH: the root of the tree whose leaves have these hashes (``EMPTY_ROOT`` for no leaves)."""
    if not leaf_hashes:
        return EMPTY_ROOT
    level = list(leaf_hashes)
    # Pairing left to right and promoting an odd last node builds the same tree as the RFC's
    # "largest power of two on the left" recursion, without recursion or slicing.
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """PATH: the audit path of leaf ``index`` in the tree of all ``leaf_hashes``."""
    return inclusion_proof_from_store(index, len(leaf_hashes), _nodes_of(leaf_hashes))


def consistency_proof(size1: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """PROOF: the consistency proof from the first ``size1`` leaves to all ``leaf_hashes``."""
    return consistency_proof_from_store(size1, len(leaf_hashes), _nodes_of(leaf_hashes))


def nodes_to_store_after_append(size_before: int, new_leaf_hash: bytes, get_node: GetNode) -> list[Node]:
    """The complete subtrees that appending ``new_leaf_hash`` to a tree of ``size_before`` leaves creates.

    The new leaf itself, then one parent per level for as long as the new node is a right child; each
    left sibling is read from the store, so those nodes must have been stored by earlier appends.
    """
    if size_before < 0:
        raise ValueError(f"tree size cannot be negative: {size_before}")
    created = [Node(0, size_before, new_leaf_hash)]
    level, index, current = 0, size_before, new_leaf_hash
    while index & 1:
        current = node_hash(get_node(level, index - 1), current)
        level, index = level + 1, index >> 1
        created.append(Node(level, index, current))
    return created


def root_from_store(size: int, get_node: GetNode) -> bytes:
    """The root of the tree of ``size`` leaves, from at most log2(size) + 1 stored nodes."""
    if size < 0:
        raise ValueError(f"tree size cannot be negative: {size}")
    return _range_hash(0, size, get_node) if size else EMPTY_ROOT


def inclusion_proof_from_store(index: int, size: int, get_node: GetNode) -> list[bytes]:
    """PATH(index, D[size]) from stored complete subtrees, ordered from the leaf up."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of size {size}")
    siblings: list[bytes] = []
    begin, end = 0, size
    while end - begin > 1:
        mid = begin + _left_size(end - begin)
        if index < mid:
            siblings.append(_range_hash(mid, end, get_node))
            end = mid
        else:
            siblings.append(_range_hash(begin, mid, get_node))
            begin = mid
    siblings.reverse()  # found top-down, the RFC lists them bottom-up
    return siblings


def consistency_proof_from_store(size1: int, size2: int, get_node: GetNode) -> list[bytes]:
    """PROOF(size1, D[size2]) from stored complete subtrees; empty when the sizes are equal."""
    if not 0 < size1 <= size2:
        raise ValueError(f"no consistency proof from size {size1} to size {size2}")
    nodes: list[bytes] = []
    begin, end, whole_old_tree = 0, size2, True
    while size1 != end:
        mid = begin + _left_size(end - begin)
        if size1 <= mid:
            nodes.append(_range_hash(mid, end, get_node))
            end = mid
        else:
            nodes.append(_range_hash(begin, mid, get_node))
            begin, whole_old_tree = mid, False
    # SUBPROOF(m, D[m], true) is empty because the verifier already holds that root; once the descent
    # has turned right, the subtree ending at size1 is only part of the old tree and must be sent.
    if not whole_old_tree:
        nodes.append(_range_hash(begin, end, get_node))
    nodes.reverse()
    return nodes


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Check that ``leaf`` (a leaf hash) is entry ``index`` of the tree ``(size, root)`` (RFC 9162 §2.1.3.2)."""
    _check_hash(leaf, "leaf hash")
    for node in proof:
        _check_hash(node, "proof node")
    if not 0 <= index < size:
        raise InvalidProofError(f"leaf {index} is not in a tree of size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise InvalidProofError("inclusion proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:  # skip the levels where the right border has no sibling
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise InvalidProofError("inclusion proof is shorter than the path to the root")
    if r != root:
        raise InvalidProofError("inclusion proof leads to a different root")


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> None:
    """Check that tree ``(size2, root2)`` extends tree ``(size1, root1)`` (RFC 9162 §2.1.4.2).

    The RFC defines proofs for ``0 < size1 < size2`` only. Equal sizes need an empty proof and equal roots;
    size 0 is refused, since every tree extends the empty one and such a "proof" would check nothing.
    """
    if size2 < size1:
        raise InvalidProofError(f"tree shrank from size {size1} to {size2}")
    if size1 <= 0:
        raise InvalidProofError("a consistency proof from the empty tree proves nothing")
    if size1 == size2:
        if proof:
            raise InvalidProofError("equal sizes need an empty consistency proof")
        if root1 != root2:
            raise InvalidProofError("equal sizes but different roots")
        return
    if not proof:
        raise InvalidProofError("empty consistency proof")
    for node in (root1, root2, *proof):
        _check_hash(node, "root or proof node")
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # the old tree is one complete subtree: its root seeds the path
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise InvalidProofError("consistency proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise InvalidProofError("consistency proof is shorter than the path to the root")
    if fr != root1:
        raise InvalidProofError("consistency proof does not rebuild the old root")
    if sr != root2:
        raise InvalidProofError("consistency proof does not rebuild the new root")


def _left_size(size: int) -> int:
    """The RFC's split point k: the largest power of two strictly below ``size`` (``size >= 2``)."""
    return 1 << ((size - 1).bit_length() - 1)


def _range_hash(begin: int, end: int, get_node: GetNode) -> bytes:
    """MTH(D[begin:end]) for a non-empty range that the RFC recursion produces.

    Such a range starts on a multiple of its largest power-of-two part, so it splits left to right into
    complete subtrees of decreasing size, one per set bit of ``end - begin``; the RFC hashes them right
    to left.
    """
    parts: list[bytes] = []
    while begin < end:
        level = (end - begin).bit_length() - 1
        parts.append(get_node(level, begin >> level))
        begin += 1 << level
    root = parts.pop()
    while parts:
        root = node_hash(parts.pop(), root)
    return root


def _nodes_of(leaf_hashes: Sequence[bytes]) -> GetNode:
    """A ``get_node`` computing each complete subtree from the leaves, for callers without a store."""

    def get_node(level: int, index: int) -> bytes:
        return tree_root(leaf_hashes[index << level : (index + 1) << level])

    return get_node


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise InvalidProofError(f"{what} has {len(value)} bytes, want {HASH_SIZE}")
