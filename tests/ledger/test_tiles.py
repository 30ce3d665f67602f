"""Tiles per c2sp.org/tlog-tiles: paths, contents, and proofs read from them."""

import random

import pytest

from opentic.ledger.merkle import consistency_proof, inclusion_proof, leaf_hash, list_subtrees, root_of
from opentic.ledger.tiles import Appender, edge_keys, parse_tile_path, subtree_reader, tile_path

LEAVES = [leaf_hash(i.to_bytes(4, "big")) for i in range(70_000)]


def test_paths_follow_the_spec() -> None:
    assert tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tile_path(2, 5, 17) == "tile/2/005.p/17"
    assert tile_path("entries", 1000) == "tile/entries/x001/000"
    for path in ["tile/0/x001/x234/067", "tile/2/005.p/17", "tile/entries/x001/000"]:
        assert tile_path(*parse_tile_path(path)) == path
    for bad in ["tile/0/1234", "tile/0/x000/001", "tile/0/001.p/256", "tile/0/001.p/0", "tile/64/001",
                "tile/01/001", "tile/0/../001", "tile/0/001/"]:
        with pytest.raises(ValueError):
            parse_tile_path(bad)


def test_the_spec_example_of_partial_tiles() -> None:
    # "a tree of size 70,000 will be represented by 273 full level 0 tiles, one partial level 0 tile of
    # width 112, one full level 1 tile, one partial level 1 tile of width 17, and one partial level 2 tile
    # of width 1."
    assert edge_keys(70_000) == {(0, 273): 112, (1, 1): 17, (2, 0): 1}
    assert edge_keys(256) == {(1, 0): 1}


def test_batches_of_any_size_give_the_reference_tree() -> None:
    rng = random.Random(5)
    store: dict[tuple[int, int], bytes] = {}
    size = 0
    while size < len(LEAVES):
        appender = Appender.load(size, lambda level, index: store[(level, index)])
        for leaf in LEAVES[size:size + rng.choice([1, 3, 255, 256, 257, 1000, 5000])]:
            appender.append(leaf)
        store.update(appender.tiles())
        size = appender.size
        assert appender.root() == root_of(LEAVES[:size]), size
    # Every stored tile is what the spec defines: MTH of the 256**level leaves under each of its hashes.
    assert store[(0, 3)] == b"".join(LEAVES[768:1024])
    assert store[(1, 0)][32:64] == root_of(LEAVES[256:512])
    assert len(store[(0, 273)]) == 112 * 32 and len(store[(1, 1)]) == 17 * 32
    # Proofs read from the tiles equal proofs computed from the leaves.
    from_tiles = subtree_reader(lambda level, index: store[(level, index)])
    from_list = list_subtrees(LEAVES)
    for index, tree_size in [(0, 70_000), (65_535, 65_537), (69_999, 70_000), (12_345, 40_000)]:
        assert inclusion_proof(index, tree_size, from_tiles) == inclusion_proof(index, tree_size, from_list)
    assert consistency_proof(1000, 70_000, from_tiles) == consistency_proof(1000, 70_000, from_list)
