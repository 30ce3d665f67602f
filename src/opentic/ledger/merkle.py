"""Merkle tree hashing and proofs exactly as RFC 9162 §2.1, over raw 32-byte SHA-256 hashes.

Pure Python, no Django: the offline verifier (`opentic verify`) and third parties' tools run this
file alone. Proof generation reads hashes of complete subtrees through a callback, so the same code
works over a list in memory (tests, the monitor) and over stored tiles (the log).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

# A function returning MTH(D[start:start + 2**level]) of a complete, aligned subtree.
SubtreeHash = Callable[[int, int], bytes]


class ProofError(ValueError):
    pass


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two smaller than n (n > 1): where RFC 9162 splits D[n]."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaves: Sequence[bytes]) -> bytes:
    """MTH of a list of leaf hashes."""
    if not leaves:
        return EMPTY_ROOT
    level = list(leaves)
    # Pairing left to right and carrying an odd last node up unchanged builds the same tree as the
    # RFC's recursive split (the left subtree is always the largest power of two).
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def list_subtrees(leaves: Sequence[bytes]) -> SubtreeHash:
    def subtree(start: int, level: int) -> bytes:
        return root_of(leaves[start:start + (1 << level)])

    return subtree


def range_hash(start: int, end: int, subtree: SubtreeHash) -> bytes:
    """MTH(D[start:end]) where start is aligned to the largest power of two that fits."""
    n = end - start
    if n <= 0:
        raise ProofError("empty range")
    if n & (n - 1) == 0:
        return subtree(start, n.bit_length() - 1)
    k = split_point(n)
    return node_hash(range_hash(start, start + k, subtree), range_hash(start + k, end, subtree))


def inclusion_proof(index: int, size: int, subtree: SubtreeHash) -> list[bytes]:
    """PATH(index, D[size]) of RFC 9162 §2.1.3.1."""
    if not 0 <= index < size:
        raise ProofError(f"index {index} is outside a tree of size {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            path.append(range_hash(start + k, end, subtree))
            end = start + k
        else:
            path.append(range_hash(start, start + k, subtree))
            start += k
    path.reverse()
    return path


def consistency_proof(size1: int, size2: int, subtree: SubtreeHash) -> list[bytes]:
    """PROOF(size1, D[size2]) of RFC 9162 §2.1.4.1."""
    if not 0 < size1 <= size2:
        raise ProofError(f"no consistency proof from size {size1} to size {size2}")
    path: list[bytes] = []
    start, end, m, complete = 0, size2, size1, True
    while m != end - start:
        k = split_point(end - start)
        if m <= k:
            path.append(range_hash(start + k, end, subtree))
            end = start + k
        else:
            path.append(range_hash(start, start + k, subtree))
            start, m, complete = start + k, m - k, False
    if not complete:
        path.append(range_hash(start, end, subtree))
    path.reverse()
    return path


def _check_hashes(*hashes: bytes) -> bool:
    return all(isinstance(h, bytes) and len(h) == HASH_SIZE for h in hashes)


def verify_inclusion(index: int, tree_size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does `leaf` sit at `index` of the tree of `tree_size` with this root?"""
    if not 0 <= index < tree_size or not _check_hashes(leaf, root, *proof):
        return False
    fn, sn = index, tree_size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            return False  # the path is longer than the tree is deep
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: is the tree of size2 with root2 an append-only extension of (size1, root1)?"""
    if not _check_hashes(root1, root2, *proof) or not 0 <= size1 <= size2:
        return False
    if size1 == size2:
        return not proof and root1 == root2
    if size1 == 0:
        return not proof  # the empty tree is a prefix of every tree
    if not proof:
        return False
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # size1 is a power of two: the old root is the first node
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == root1 and sr == root2
