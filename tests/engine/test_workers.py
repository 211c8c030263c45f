"""`Workers`: jobs run in worker processes or in the process that waits for them, each
result where it belongs whatever finishes first, and a job queued while others run is
taken by whichever process is free first."""

import gc
import os
import threading
import time
from concurrent.futures import Future

import pytest

import netverify.engine.workers as workers_module
from netverify.engine.workers import Workers
from tests.engine.helpers import recorded_pools


def _spawned(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers spawned, as where they cannot be forked (`_can_fork`)."""
    monkeypatch.setattr(workers_module, "_can_fork", lambda: False)


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
    """With two jobs at once: one worker process and this one. The first job is taken by
    this process while a spawned worker starts, the second sent to the worker once it is
    up; each result is still its own."""
    _spawned(monkeypatch)
    pools = recorded_pools(monkeypatch)
    with Workers("shared", jobs=2) as pool:
        slow = pool.submit(_slept, ("slow", 3.0))
        fast = pool.submit(_slept, ("fast", 0.0))
        list(pool.completed([slow, fast]))
    assert pools == [1]
    assert slow.result() == ("shared", "slow", os.getpid())
    shared, name, worker = fast.result()
    assert (shared, name) == ("shared", "fast")
    assert worker != os.getpid()


def test_a_job_queued_by_then_runs_while_this_process_is_busy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A job queued by `then` as a result comes in (a search after its part's proof) is
    taken by the worker while this process is still busy with a long job."""
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
    assert here == os.getpid() != worker


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


def test_workers_start_before_any_job_is_queued(monkeypatch: pytest.MonkeyPatch) -> None:
    """`start` starts the worker processes ahead of the jobs: one job then goes to a worker
    once they are up, which two jobs queued at once would have needed otherwise."""
    pools = recorded_pools(monkeypatch)
    with Workers("shared", jobs=2) as pool:
        pool.start()
        pool.start()
        futures = [pool.submit(_slept, (name, 0.0)) for name in "ab"]
        done = {future.result()[1] for future in pool.completed(futures)}
    assert pools == [1]
    assert done == {"a", "b"}


class _SlowToReceive:
    """Shared with the workers, and slow to unpickle: the workers are still starting."""

    def __getstate__(self) -> dict[str, object]:
        return {"slow": True}

    def __setstate__(self, state: dict[str, object]) -> None:
        time.sleep(3.0)


def _pid(shared: _SlowToReceive, item: str) -> int:
    return os.getpid()


def test_this_process_takes_the_jobs_while_the_workers_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No job waits for a worker that is still starting: this process runs them."""
    _spawned(monkeypatch)
    pools = recorded_pools(monkeypatch)
    with Workers(_SlowToReceive(), jobs=2) as pool:
        pool.start()
        futures = [pool.submit(_pid, name) for name in "abc"]
        ran = [future.result() for future in pool.completed(futures)]
    assert pools == [1]
    assert ran == [os.getpid()] * 3


def _shared_lock_held(shared: threading.Lock, item: str) -> tuple[bool, int]:
    return shared.locked(), os.getpid()


def test_a_worker_forked_has_what_is_shared_unsent() -> None:
    """Forked (Linux, one thread), a worker has the shared object as this process had it,
    without pickling (a lock cannot be), and takes a job at once."""
    if not workers_module._can_fork():
        pytest.skip("workers are forked on Linux, from a process of one thread")
    shared = threading.Lock()
    shared.acquire()
    with Workers(shared, jobs=2) as pool:
        pool.start()
        sent = pool.submit(_shared_lock_held, "a")
        # NOTE: the worker is up: the job went to it before this process looked.
        here = pool.submit(_shared_lock_held, "b")
        results = {future.result() for future in pool.completed([sent, here])}
    assert results == {(True, os.getpid()), (True, sent.result()[1])}
    assert sent.result()[1] != os.getpid()


def test_workers_are_spawned_while_another_thread_runs() -> None:
    """A fork copies the locks other threads hold (Z3's among them): with another thread
    running, the workers are spawned, and what is shared is pickled to them."""
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not workers_module._can_fork()
        with Workers(threading.Lock(), jobs=2) as pool, pytest.raises(TypeError):
            pool.start()
    finally:
        stop.set()
        other.join()


def _collecting(shared: str, item: int) -> bool:
    return gc.isenabled()


def test_the_collector_is_paused_while_this_process_runs_a_job() -> None:
    """The pool's thread must not free a running job's Z3 objects (see `completed`)."""
    with Workers("shared", jobs=1) as pool:
        (done,) = list(pool.completed([pool.submit(_collecting, 0)]))
    assert done.result() is False
    assert gc.isenabled()


def test_a_job_here_runs_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """A job `here` (what it needs cannot be sent, so any callable) is this process's,
    whatever workers there are; the queued jobs still run."""
    recorded_pools(monkeypatch)
    ran: list[str] = []
    with Workers("shared", jobs=2) as pool:
        queued = [pool.submit(_slept, (name, 0.5)) for name in "ab"]
        here = pool.submit(lambda shared, item: ran.append(item) or os.getpid(), "here", here=True)
        list(pool.completed([*queued, here]))
    assert ran == ["here"]
    assert here.result() == os.getpid()
    assert {future.result()[1] for future in queued} == {"a", "b"}
