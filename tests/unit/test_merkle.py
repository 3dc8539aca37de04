"""RFC 9162 Merkle trees: known vectors (the certificate-transparency test data), and
properties over random sizes against the RFC's recursive definitions."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grievance.services import merkle

# The inputs and roots of the certificate-transparency Merkle tree tests (RFC 6962 §2.1,
# whose hashing RFC 9162 keeps).
LEAVES = [
    bytes.fromhex(text)
    for text in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
PATH_0_OF_8 = [
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
]


def _mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1, as written."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + _mth(leaves[:k]) + _mth(leaves[k:])).digest()


def _path(m: int, leaves: list[bytes]) -> list[bytes]:
    if len(leaves) == 1:
        return []
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if m < k:
        return [*_path(m, leaves[:k]), _mth(leaves[k:])]
    return [*_path(m - k, leaves[k:]), _mth(leaves[:k])]


def _subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [_mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*_subproof(m, leaves[:k], complete), _mth(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], False), _mth(leaves[:k])]


def test_the_empty_tree_hashes_the_empty_string():
    assert merkle.MemoryTree().root().hex() == hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_the_known_vectors(size):
    assert merkle.MemoryTree(LEAVES[:size]).root().hex() == ROOTS[size - 1]


def test_roots_of_every_earlier_size_from_the_stored_subtrees():
    tree = merkle.MemoryTree(LEAVES)
    assert [tree.root(size).hex() for size in range(1, 9)] == ROOTS


def test_an_inclusion_proof_matches_the_known_vector():
    tree = merkle.MemoryTree(LEAVES)
    proof = merkle.inclusion_proof(0, 8, tree.lookup)
    assert [p.hex() for p in proof] == PATH_0_OF_8
    merkle.verify_inclusion(0, 8, merkle.leaf_hash(LEAVES[0]), proof, tree.root())


def test_a_leaf_and_node_hash_follow_rfc_9162():
    data = bytes(range(32))
    assert merkle.leaf_hash(data) == hashlib.sha256(b"\x00" + data).digest()
    assert (
        merkle.node_hash(b"a" * 32, b"b" * 32)
        == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    )


sizes = st.integers(min_value=1, max_value=300)


@settings(max_examples=60, deadline=None)
@given(size=sizes, data=st.data())
def test_inclusion_proofs_are_rfc_9162_paths_and_verify(size, data):
    leaves = [i.to_bytes(4, "big") for i in range(size)]
    tree = merkle.MemoryTree(leaves)
    assert tree.root() == _mth(leaves)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    proof = merkle.inclusion_proof(index, size, tree.lookup)
    assert proof == _path(index, leaves)
    leaf = merkle.leaf_hash(leaves[index])
    merkle.verify_inclusion(index, size, leaf, proof, tree.root())
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(index, size, merkle.leaf_hash(b"other"), proof, tree.root())
    if size > 1:
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion((index + 1) % size, size, leaf, proof, tree.root())


@settings(max_examples=60, deadline=None)
@given(new=sizes, data=st.data())
def test_consistency_proofs_are_rfc_9162_proofs_and_verify(new, data):
    leaves = [i.to_bytes(4, "big") for i in range(new)]
    tree = merkle.MemoryTree(leaves)
    old = data.draw(st.integers(min_value=0, max_value=new))
    proof = merkle.consistency_proof(old, new, tree.lookup)
    assert proof == ([] if old == 0 else _subproof(old, leaves, True))
    old_root, new_root = tree.root(old), tree.root()
    merkle.verify_consistency(old, new, old_root, new_root, proof)
    if 0 < old < new:
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(old, new, merkle.leaf_hash(b"forged"), new_root, proof)
        # a log that rewrote an early leaf is not consistent with the old root
        rewritten = merkle.MemoryTree([b"rewritten", *leaves[1:]])
        forged = merkle.consistency_proof(old, new, rewritten.lookup)
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(old, new, old_root, rewritten.root(), forged)


@settings(max_examples=30, deadline=None)
@given(size=sizes, data=st.data())
def test_proofs_need_only_a_logarithmic_number_of_subtrees(size, data):
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    keys = merkle.needed(lambda lookup: merkle.inclusion_proof(index, size, lookup))
    assert len(keys) <= 2 * max(1, size.bit_length())
    keys = merkle.needed(lambda lookup: merkle.consistency_proof(index, size, lookup))
    assert len(keys) <= 2 * max(1, size.bit_length())


def test_the_frontier_is_all_a_tree_needs_to_grow():
    tree = merkle.MemoryTree(LEAVES[:5])
    kept = {key: tree.nodes[key] for key in merkle.frontier(5)}
    grown = merkle.MemoryTree(LEAVES[:5])
    for data in LEAVES[5:]:
        made = merkle.completed(grown.size, merkle.leaf_hash(data), merkle.from_table(kept))
        kept.update({(level, index): value for level, index, value in made})
        grown.append(data)
    assert merkle.root(8, merkle.from_table(kept)).hex() == ROOTS[7]
