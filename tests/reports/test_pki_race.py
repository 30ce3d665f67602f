"""Processes that start together (a batch's render processes) share one platform root, never make two."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from opentic.reports import pki


def _first_use(barrier: Any, out: Any) -> None:
    barrier.wait()  # all at once, as a pool's processes start
    out.put(pki.root().certificate.public_bytes(serialization.Encoding.PEM).decode())


def test_concurrent_first_use_makes_one_root(tmp_path: Path, settings: Any) -> None:
    settings.DATA_DIR = tmp_path  # the children are forked after this: they share the empty directory
    context = multiprocessing.get_context("fork")
    barrier, out = context.Barrier(6), context.Queue()
    children = [context.Process(target=_first_use, args=(barrier, out)) for _ in range(6)]
    for child in children:
        child.start()
    roots = {out.get(timeout=60) for _ in children}
    for child in children:
        child.join(timeout=60)
    assert len(roots) == 1, "the processes made different roots"
    assert (tmp_path / "pki" / "root.crt.pem").read_text() == next(iter(roots))
