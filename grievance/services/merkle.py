"""RFC 9162 Merkle trees (§2.1): hashes, inclusion and consistency proofs, verification.

Pure functions over a tree whose *complete, aligned subtrees* are looked up by
`(level, index)`: the subtree of level `l` and index `i` covers the leaves
`[i * 2**l, (i + 1) * 2**l)`, level 0 being the leaf hashes. Every subtree that RFC
9162's recursions name is either such a complete subtree or split again, so a root or a
proof needs O(log n) of them: `transparency` stores them as rows (`merkle_node`) and
fetches, in one query, the keys `needed` lists; tests keep them in a `MemoryTree`.

- leaf hash: SHA-256(0x00 || leaf data); here a leaf's data is the 32 bytes of an event
  hash.
- node hash: SHA-256(0x01 || left || right); the empty tree's root: SHA-256("").
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence

#: (level, index) of a complete aligned subtree.
Key = tuple[int, int]
Lookup = Callable[[int, int], bytes]

EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof does not verify, or asks for what the tree cannot prove."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def subtree_hash(start: int, end: int, lookup: Lookup) -> bytes:
    """MTH of the leaves [start, end): a complete aligned subtree is looked up, any other
    range is split at the largest power of two as RFC 9162 does."""
    size = end - start
    if size <= 0:
        return EMPTY_ROOT
    if size & (size - 1) == 0 and start % size == 0:
        level = size.bit_length() - 1
        return lookup(level, start >> level)
    k = _split(size)
    return node_hash(subtree_hash(start, start + k, lookup), subtree_hash(start + k, end, lookup))


def root(size: int, lookup: Lookup) -> bytes:
    return subtree_hash(0, size, lookup)


def inclusion_proof(index: int, size: int, lookup: Lookup) -> list[bytes]:
    """PATH(index, D[size]) of RFC 9162 §2.1.3.1."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            path.append(subtree_hash(start + k, end, lookup))
            end = start + k
        else:
            path.append(subtree_hash(start, start + k, lookup))
            start += k
    path.reverse()
    return path


def consistency_proof(old: int, new: int, lookup: Lookup) -> list[bytes]:
    """PROOF(old, D[new]) of RFC 9162 §2.1.4.1 (empty when old is 0 or equals new)."""
    if not 0 <= old <= new:
        raise ProofError(f"no consistency proof from {old} to {new}")
    if old in (0, new):
        return []
    proof: list[bytes] = []
    start, end, complete = 0, new, True
    m = old
    while True:
        if m == end - start:
            if not complete:
                proof.append(subtree_hash(start, end, lookup))
            break
        k = _split(end - start)
        if m <= k:
            proof.append(subtree_hash(start + k, end, lookup))
            end = start + k
        else:
            proof.append(subtree_hash(start, start + k, lookup))
            start, m, complete = start + k, m - k, False
    proof.reverse()
    return proof


def needed(compute: Callable[[Lookup], object]) -> set[Key]:
    """The subtrees `compute` looks up (the keys do not depend on the hashes)."""
    keys: set[Key] = set()

    def record(level: int, index: int) -> bytes:
        keys.add((level, index))
        return bytes(32)

    compute(record)
    return keys


def from_table(table: Mapping[Key, bytes]) -> Lookup:
    def lookup(level: int, index: int) -> bytes:
        try:
            return table[(level, index)]
        except KeyError:
            raise ProofError(f"subtree {level}/{index} is not stored") from None

    return lookup


def completed(size: int, leaf: bytes, lookup: Lookup) -> list[tuple[int, int, bytes]]:
    """The subtrees that appending `leaf` (a leaf hash) to a tree of `size` leaves
    completes, as (level, index, hash), the leaf itself first."""
    made = [(0, size, leaf)]
    current, index, level = leaf, size, 0
    while index % 2 == 1:  # a right child: its left sibling is complete already
        current = node_hash(lookup(level, index - 1), current)
        index //= 2
        level += 1
        made.append((level, index, current))
    return made


def frontier(size: int) -> set[Key]:
    """The complete subtrees that the next appends may need as left siblings."""
    keys: set[Key] = set()
    start = 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size & (1 << level):
            keys.add((level, start >> level))
            start += 1 << level
    return keys


class MemoryTree:
    """A tree held in a dict, for tests and for checking."""

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self.nodes: dict[Key, bytes] = {}
        self.size = 0
        for data in leaves:
            self.append(data)

    def append(self, data: bytes) -> None:
        for level, index, value in completed(self.size, leaf_hash(data), self.lookup):
            self.nodes[(level, index)] = value
        self.size += 1

    def lookup(self, level: int, index: int) -> bytes:
        return self.nodes[(level, index)]

    def root(self, size: int | None = None) -> bytes:
        return root(self.size if size is None else size, self.lookup)


# -- verifying (RFC 9162 §2.1.3.2 and §2.1.4.2) -------------------------------------


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], expected_root: bytes
) -> None:
    """Check that `leaf` (a leaf hash) is leaf `index` of the tree of `size` whose root
    is `expected_root`; raises ProofError if not."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size}")
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            raise ProofError("the inclusion proof is too long")
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0 or r != expected_root:
        raise ProofError("the inclusion proof does not lead to the root")


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of `new` leaves with `new_root` extends the tree of `old`
    leaves with `old_root`; raises ProofError if not."""
    if not 0 <= old <= new:
        raise ProofError(f"no consistency from {old} to {new}")
    if old == new:
        if proof or old_root != new_root:
            raise ProofError("equal sizes need equal roots and an empty proof")
        return
    if old == 0:
        if proof:
            raise ProofError("a proof from the empty tree is empty")
        return
    if not proof:
        raise ProofError("the consistency proof is empty")
    path = list(proof)
    if old & (old - 1) == 0:  # a power of two: the old root is the first node
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn % 2 == 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is too long")
        if fn % 2 == 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0 or fr != old_root or sr != new_root:
        raise ProofError("the consistency proof does not lead to both roots")
