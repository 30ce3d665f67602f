"""The handle a registration waits on: resolved once by the sequencer's thread, whatever the interleaving."""

import threading
import time

import pytest

from opentic.ledger.sequencer import Registration


def test_a_waiter_is_woken_whether_it_waits_before_or_after_the_batch_commits() -> None:
    marker = object()
    for delay in (0.0, 0.001, 0.01, 0.05):  # resolved before the wait, during it, well after it began
        for _ in range(50 if delay == 0.0 else 3):
            registration = Registration()

            def resolve(r: Registration = registration, d: float = delay) -> None:
                time.sleep(d)
                r._resolve(marker, None)  # any object stands for a Sequenced here

            thread = threading.Thread(target=resolve)
            thread.start()
            assert registration.result(timeout=5) is marker
            thread.join()
            assert registration.done() and registration.exception() is None


def test_a_failure_reaches_the_waiter_and_a_slow_batch_times_out() -> None:
    failed = Registration()
    failed._resolve(None, RuntimeError("database unavailable"))
    with pytest.raises(RuntimeError, match="database unavailable"):
        failed.result(timeout=1)
    with pytest.raises(TimeoutError):
        Registration().result(timeout=0.05)


def test_a_failing_callback_does_not_stop_its_registration_resolving() -> None:
    seen: list[Registration] = []

    def bad(r: Registration) -> None:
        seen.append(r)
        raise ValueError("the caller's own bug")

    registration = Registration(bad)
    registration._resolve("done", None)
    assert seen == [registration] and registration.result(timeout=1) == "done"
