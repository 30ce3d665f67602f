"""A pool of worker processes for CPU-bound work inside a job (rendering reports), that dies with its job.

Spawned, not forked: the queue's worker runs threads (its consumers, the lease heartbeat), and a fork
copies their locks in whatever state they are. Each process asks the kernel to kill it when its parent
dies (PR_SET_PDEATHSIG), so a worker killed with kill -9 leaves no orphan going on with the work while the
job is resumed elsewhere. This module imports no models: the pool's initializer is unpickled before
Django is set up.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor

PR_SET_PDEATHSIG = 1


def _init() -> None:
    import django

    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() == 1:  # the parent died before the line above took effect
            os._exit(1)
    django.setup()


def pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, initializer=_init,
                               mp_context=multiprocessing.get_context("spawn"))
