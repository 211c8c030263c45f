"""`Workers`: jobs run in worker processes or in the process that waits for them, each
result where it belongs whatever finishes first, and a job queued while others run is
taken by whichever process is free first."""

import gc
import os
import time
from concurrent.futures import Future

import pytest

from netverify.engine.workers import Workers, in_workers
from tests.engine.helpers import recorded_pools


def _slept(shared: str, item: tuple[str, float]) -> tuple[str, str, int]:
    """The item's name after sleeping its seconds, with what is shared and the process."""
    name, seconds = item
    time.sleep(seconds)
    return shared, name, os.getpid()


def test_one_job_at_a_time_runs_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    pools = recorded_pools(monkeypatch)
    with Workers("shared", jobs=1) as pool:
        futures = [pool.submit(_slept, (name, 0.0)) for name in "abc"]
        done = [future.result() for future in pool.completed(futures)]
    assert pools == []
    assert done == [("shared", name, os.getpid()) for name in "abc"]


def test_this_process_takes_jobs_beside_one_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """With two jobs at once: one worker process and this one. The first job, sent to the
    worker, ends last; its result is still its own."""
    pools = recorded_pools(monkeypatch)
    with Workers("shared", jobs=2) as pool:
        slow = pool.submit(_slept, ("slow", 1.0))
        fast = pool.submit(_slept, ("fast", 0.0))
        order = [future for future in pool.completed([slow, fast])]
    assert pools == [1]
    assert order == [fast, slow]
    assert fast.result() == ("shared", "fast", os.getpid())
    shared, name, worker = slow.result()
    assert (shared, name) == ("shared", "slow")
    assert worker != os.getpid()


def test_a_job_queued_by_then_runs_while_this_process_is_busy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A job queued by `then` as a worker's result comes in (a search after its part's
    proof) is taken by that worker while this process is still busy with a long job."""
    recorded_pools(monkeypatch)
    later: list[Future[tuple[str, str, int]]] = []
    with Workers("shared", jobs=2) as pool:

        def queue_later(result: tuple[str, str, int]) -> None:
            later.append(pool.submit(_slept, ("later", 0.0)))

        first = pool.submit(_slept, ("first", 0.0), then=queue_later)
        long = pool.submit(_slept, ("long", 6.0))
        for future in pool.completed([first, long]):
            if future is first:
                # NOTE: `then` ran before `first` was done: `later` is queued already.
                assert later
        (after,) = later
        # Done before this process was free to look at it.
        assert after.done()
    _, _, here = long.result()
    _, _, worker = after.result()
    assert here == os.getpid() != worker == first.result()[2]


def test_a_first_job_runs_ahead_of_those_queued_already() -> None:
    """A job known to be long (`first`) is taken before the jobs queued before it."""
    ran: list[str] = []
    with Workers("shared", jobs=1) as pool:
        futures = [
            pool.submit(_slept, (name, 0.0), then=lambda r: ran.append(r[1])) for name in "ab"
        ]
        futures.append(
            pool.submit(_slept, ("long", 0.0), then=lambda r: ran.append(r[1]), first=True)
        )
        list(pool.completed(futures))
    assert ran == ["long", "a", "b"]


def test_an_error_in_a_job_is_raised_by_its_result() -> None:
    with Workers("shared", jobs=1) as pool:
        future = pool.submit(_slept, ("negative", -1.0))
        (done,) = list(pool.completed([future]))
    with pytest.raises(ValueError):
        done.result()


def test_in_workers_keeps_the_order_of_the_items() -> None:
    items = [("slow", 0.5), ("fast", 0.0)]
    assert [name for _, name, _ in in_workers("shared", _slept, items, jobs=2)] == [
        "slow",
        "fast",
    ]


def _collecting(shared: str, item: int) -> bool:
    return gc.isenabled()


def test_the_collector_is_paused_while_this_process_runs_a_job() -> None:
    """The pool's thread must not free a running job's Z3 objects (see `completed`)."""
    with Workers("shared", jobs=1) as pool:
        (done,) = list(pool.completed([pool.submit(_collecting, 0)]))
    assert done.result() is False
    assert gc.isenabled()
