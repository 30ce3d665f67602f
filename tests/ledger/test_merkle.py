"""RFC 9162 §2.1 tree hashing and proofs.

Known answers: the Certificate Transparency reference leaves and results (RFC 6962 test vectors as
published in transparency-dev/merkle, testonly/constants.go), which RFC 9162 keeps unchanged.
"""

import itertools

import pytest

from opentic.ledger.merkle import (
    EMPTY_ROOT,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    list_subtrees,
    root_of,
    verify_consistency,
    verify_inclusion,
)

h = bytes.fromhex
LEAVES = [leaf_hash(h(x)) for x in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                    "606162636465666768696a6b6c6d6e6f"]]
ROOTS = [h(x) for x in [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]]
INCLUSION = {
    (0, 8): ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
    (5, 8): ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"],
}
CONSISTENCY = {
    (2, 8): ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
    (6, 8): ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"],
    (2, 5): ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"],
}
SUBTREE = list_subtrees(LEAVES)


def test_roots_match_the_reference_for_every_size() -> None:
    assert ROOTS[0] == EMPTY_ROOT
    for n in range(len(LEAVES) + 1):
        assert root_of(LEAVES[:n]) == ROOTS[n], n


@pytest.mark.parametrize("key", INCLUSION)
def test_inclusion_proofs_match_the_reference(key: tuple[int, int]) -> None:
    index, size = key
    proof = inclusion_proof(index, size, SUBTREE)
    assert proof == [h(x) for x in INCLUSION[key]]
    assert verify_inclusion(index, size, LEAVES[index], proof, ROOTS[size])


@pytest.mark.parametrize("key", CONSISTENCY)
def test_consistency_proofs_match_the_reference(key: tuple[int, int]) -> None:
    size1, size2 = key
    proof = consistency_proof(size1, size2, SUBTREE)
    assert proof == [h(x) for x in CONSISTENCY[key]]
    assert verify_consistency(size1, size2, ROOTS[size1], ROOTS[size2], proof)


MANY = [leaf_hash(bytes([i, i * 7 % 256])) for i in range(70)]
MANY_SUBTREE = list_subtrees(MANY)


def test_every_inclusion_proof_verifies_and_every_mutation_fails() -> None:
    for size in range(1, len(MANY) + 1):
        root = root_of(MANY[:size])
        for index in range(size):
            proof = inclusion_proof(index, size, MANY_SUBTREE)
            assert verify_inclusion(index, size, MANY[index], proof, root)
            assert not verify_inclusion(index, size, MANY[(index + 1) % len(MANY)], proof, root)
            assert not verify_inclusion(index + 1, size, MANY[index], proof, root)
            assert not verify_inclusion(index, size, MANY[index], [*proof, MANY[0]], root)  # path too long
            if proof:
                assert not verify_inclusion(index, size, MANY[index], proof[:-1], root)  # too short
                flipped = bytes([proof[0][0] ^ 1]) + proof[0][1:]
                assert not verify_inclusion(index, size, MANY[index], [flipped, *proof[1:]], root)


def test_every_consistency_proof_verifies_and_every_mutation_fails() -> None:
    for size1, size2 in itertools.combinations_with_replacement(range(1, 40), 2):
        root1, root2 = root_of(MANY[:size1]), root_of(MANY[:size2])
        proof = consistency_proof(size1, size2, MANY_SUBTREE)
        assert verify_consistency(size1, size2, root1, root2, proof), (size1, size2)
        if size1 == size2:
            assert proof == [] and not verify_consistency(size1, size2, root1, bytes(32), proof)
            continue
        assert not verify_consistency(size1, size2, root1, root_of(MANY[:size2 + 1]), proof)
        assert not verify_consistency(size1, size2, bytes(32), root2, proof)
        assert not verify_consistency(size1, size2, root1, root2, [*proof, MANY[0]])
        assert not verify_consistency(size1, size2, root1, root2, proof[:-1])
        assert not verify_consistency(size2, size1, root2, root1, proof)


def test_malformed_proofs_are_rejected_not_crashed_on() -> None:
    proof = inclusion_proof(3, 8, SUBTREE)
    assert not verify_inclusion(8, 8, LEAVES[3], proof, ROOTS[8])  # index >= size
    assert not verify_inclusion(-1, 8, LEAVES[3], proof, ROOTS[8])
    assert not verify_inclusion(3, 8, LEAVES[3], [proof[0][:31], *proof[1:]], ROOTS[8])  # wrong length
    assert not verify_inclusion(3, 8, LEAVES[3][:16], proof, ROOTS[8])
    assert not verify_inclusion(3, 4, LEAVES[3], proof, ROOTS[8])  # a size whose path is shorter
    assert not verify_inclusion(3, 16, LEAVES[3], proof, ROOTS[8])  # … or longer
    assert not verify_consistency(2, 16, ROOTS[2], ROOTS[8], consistency_proof(2, 8, SUBTREE))
    assert not verify_inclusion(0, 1, LEAVES[0], [LEAVES[1]], ROOTS[1])  # a path for a one-leaf tree
    assert verify_inclusion(0, 1, LEAVES[0], [], ROOTS[1])
    assert not verify_consistency(2, 8, ROOTS[2], ROOTS[8], [])
    assert not verify_consistency(2, 8, ROOTS[2], ROOTS[8], ["x" * 32])  # type: ignore[list-item]
    with pytest.raises(ProofError):
        inclusion_proof(8, 8, SUBTREE)
    with pytest.raises(ProofError):
        consistency_proof(0, 8, SUBTREE)
