"""Independent jobs of one command in worker processes, results in the jobs' order.

`prove` proves its parts, `prove --all` searches its violated invariants and `fix` repairs
them, each job taking seconds on a large cluster. Each worker is handed what every job
shares once, when it starts; a job then sends only its own item. On Linux, from a process
of one thread, workers are forked: they have netverify imported and what is shared as this
process has it, at once. Elsewhere, or beside another thread (a fork copies the locks other
threads hold, Z3's among them), they are spawned: a start then imports netverify and
unpickles what is shared (about 0.8 s of CPU on the 5,000-pod tier). Either way one
command's jobs share one pool (`Workers`), started when first needed or ahead of need
(`Workers.start`), and the process that waits for them runs queued jobs too rather than sit
idle: with two cores, one worker and this process. A job's result must not depend on the
process it ran in (see `Workers`).
"""

import atexit
import gc
import multiprocessing
import os
import pickle
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Generic, TypeVar

from netverify.encoding.solver import collector_paused

S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class _Job(Generic[S]):
    """`work(shared, item)`, queued; its result goes to `then`, then to `future`."""

    work: Callable[[S, Any], Any]
    item: Any
    then: Callable[[Any], None] | None
    future: "Future[Any]" = field(default_factory=Future)

    def finish(self, outcome: Callable[[], Any]) -> None:
        """The future done with `outcome()` (or its error), after `then` heard it: what
        `then` queues is queued before anyone waiting for the future wakes."""
        try:
            result = outcome()
            if self.then:
                self.then(result)
        except Exception as error:
            self.future.set_exception(error)
        else:
            self.future.set_result(result)


class Workers(Generic[S]):
    """At most `jobs` processes working for one command: this one and up to `jobs - 1`
    workers, each handed `shared` when it starts; a context manager that ends them. Jobs
    whose result could depend on what ran before them in the process (Z3's term ids, so its
    models) must make it not depend on it (see `collector_paused`): jobs share processes
    here, this one included."""

    def __init__(self, shared: S, jobs: int) -> None:
        self.shared = shared
        self.jobs = jobs
        self._pool: ProcessPoolExecutor | None = None
        self._starting: threading.Thread | None = None
        self._ready = False
        """The worker processes are started: jobs may be sent to them."""
        self._queue: deque[_Job[S]] = deque()
        self._here: deque[_Job[S]] = deque()
        """Jobs only this process runs (`submit`'s `here`)."""
        self._lock = threading.Lock()
        self._sent = 0
        """Jobs in the worker processes now."""
        self._closed = False

    def start(self) -> None:
        """Start the worker processes now, ahead of the jobs.

        Forked (`_forked`), they are up at once and take the queued jobs. Spawned, a start
        is not free for the process that starts it: `spawn` writes what is shared to the
        new process, which reads it only once it has imported Python (~0.7 s of waiting on
        the 5,000-pod tier, seconds on a loaded machine), so they start in a thread of this
        process. A command that knows it will queue jobs later (`fix`, before its searches)
        starts them here and goes on with its own work meanwhile; until they are up, queued
        jobs are taken by this process (`completed`), none is sent to a worker still
        starting. What is shared is pickled here, in the calling thread: the starting
        thread then allocates next to nothing, so it cannot move the moments this process's
        collector runs at (see `collector_paused`)."""
        with self._lock:
            if self._pool is not None or self.jobs <= 1 or self._closed:
                return
            if _can_fork():
                self._pool = _forked(self.shared, self.jobs - 1)
                self._ready = True
            else:
                shared = pickle.dumps(self.shared, protocol=pickle.HIGHEST_PROTOCOL)
                pool = self._pool = _pool(shared, self.jobs - 1)
                self._starting = threading.Thread(target=self._start_workers, args=(pool,))
        if self._starting is None:
            self._send()
        else:
            self._starting.start()

    def _start_workers(self, pool: ProcessPoolExecutor) -> None:
        """Each worker process started and handed what is shared (one no-op job each: the
        pool starts a process per job while none is idle), then the queued jobs sent."""
        try:
            wait([pool.submit(_started) for _ in range(self.jobs - 1)])
        except RuntimeError:
            return  # NOTE: the pool was shut down meanwhile (`__exit__`): nothing to send.
        with self._lock:
            self._ready = True
        self._send()

    def worth(self, tasks: int) -> bool:
        """Whether `tasks` jobs go to the worker processes rather than this one: when the
        workers are started already, or more than one job may run at once and there is
        more than one task."""
        return self._pool is not None or (self.jobs > 1 and tasks > 1)

    def submit(
        self,
        work: Callable[[S, T], R],
        item: T,
        then: Callable[[R], None] | None = None,
        first: bool = False,
        here: bool = False,
    ) -> "Future[R]":
        """Queue `work(shared, item)`: it runs in a worker process that is free, or in this
        one while it waits for results (`completed`), jobs taken in the order queued, a
        `first` job ahead of those queued already (a job known to be long: started early,
        it runs beside the short ones rather than after them all). Workers start (`start`)
        when two jobs are queued at once, so that one can run beside this process; `work`
        must be a module-level function (it is sent by name).

        `then` is told the result as it comes in, before the future is done, in this
        process (in the pool's thread for a worker's result): what it queues is taken by
        the next process free, even while this one is busy with a job of its own.

        A job `here` is run by this process alone (what it needs cannot be sent: where the
        manifests' lines are), ahead of the queued jobs, which the workers take meanwhile;
        `work` may then be any callable."""
        job: _Job[S] = _Job(work, item, then)
        with self._lock:
            if here:
                self._here.append(job)
                return job.future
            if first:
                self._queue.appendleft(job)
            else:
                self._queue.append(job)
        self._send()
        return job.future

    def completed(self, futures: Iterable["Future[R]"]) -> Iterator["Future[R]"]:
        """The futures, each as it is done (those done together in the order given). While
        none is done, this process runs the next queued job itself rather than wait idle:
        with `jobs` 2 it is one of the two processes, and one worker fewer is started."""
        pending = list(futures)
        while pending:
            done = [future for future in pending if future.done()]
            if not done:
                job = self._next()
                if job is not None:
                    # NOTE: the collector runs in whichever thread allocates, the pool's
                    # too (it unpickles the workers' results): there it could free the
                    # job's Z3 objects while the job calls into Z3, and a Z3 context is not
                    # thread-safe. Paused, nothing frees them but this thread.
                    with collector_paused():
                        job.finish(partial(job.work, self.shared, job.item))
                    continue
                wait(pending, return_when=FIRST_COMPLETED)
                done = [future for future in pending if future.done()]
            for future in done:
                pending.remove(future)
                yield future

    def _next(self) -> "_Job[S] | None":
        with self._lock:
            for queue in (self._here, self._queue):
                if queue:
                    return queue.popleft()
            return None

    def _send(self) -> None:
        """Queued jobs to the worker processes free for one, once they are started (and
        they are started when two jobs wait); called as a job is queued, as the workers are
        up (in their starting thread) and as a worker's job ends (in the pool's thread)."""
        while True:
            with self._lock:
                if self._closed or not self._queue or self._sent >= self.jobs - 1:
                    return
                if not self._ready:
                    wanted = self._pool is None and len(self._queue) >= 2
                    break
                job = self._queue.popleft()
                self._sent += 1
                pool = self._pool
            assert pool is not None
            pool.submit(_run, job.work, job.item).add_done_callback(partial(self._ended, job))
        if wanted:
            self.start()

    def _ended(self, job: "_Job[S]", ended: "Future[Any]") -> None:
        with self._lock:
            self._sent -= 1
        if ended.cancelled():
            job.future.cancel()
        else:
            job.finish(ended.result)
        self._send()

    def __enter__(self) -> "Workers[S]":
        return self

    def __exit__(self, *exception: object) -> None:
        with self._lock:
            self._closed = True
            self._queue.clear()
            self._here.clear()
        if self._starting is not None:
            self._starting.join()
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)


def _can_fork() -> bool:
    """Whether the workers may be forked from this process: on Linux (elsewhere a fork is
    unsafe or missing), from its only thread (a fork copies locks another thread may hold,
    Z3's among them, locked forever in the copy)."""
    return sys.platform == "linux" and threading.active_count() == 1


def _forked(shared: object, workers: int) -> ProcessPoolExecutor:
    """`workers` processes forked now, in this thread: each has what is shared, and
    netverify imported, as this process has them, where a spawned one imports and unpickles
    them first (~0.7 s of CPU on the 5,000-pod tier, and ~0.2 s here to pickle). What this
    process's collector tracks is frozen across the fork, so that a worker's collections
    do not walk (and copy) the pages it shares with this process; the streams are flushed,
    so that a worker has nothing of this process's output to write again."""
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_start_forked,
        initargs=(shared,),
    )
    sys.stdout.flush()
    sys.stderr.flush()
    gc.freeze()
    try:
        # NOTE: with `fork`, the first job starts every worker, in the thread that queues it.
        pool.submit(_started)
    finally:
        gc.unfreeze()
    return pool


def _pool(shared: bytes, workers: int) -> ProcessPoolExecutor:
    """`workers` processes, started as jobs come, each handed `shared` (pickled) as it
    starts."""
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start,
        initargs=(shared,),
    )


_shared: list[object] = []
"""In a worker process: what every job shares, as `Workers` was given it."""


def _start(shared: bytes) -> None:
    _shared.append(pickle.loads(shared))
    # NOTE: a worker's interpreter, at its exit, frees what it holds object by object (the
    # cluster, the Z3 contexts of its jobs): ~2.5 s on the 5,000-pod tier, which the command
    # waits for. Its results are sent by then; nothing is left to free but memory.
    atexit.register(os._exit, 0)


def _start_forked(shared: object) -> None:
    _shared.append(shared)


def _started() -> None:
    """The no-op job that starts a worker process (`Workers.start`)."""


def _run(work: Callable[[Any, T], R], item: T) -> R:
    return work(_shared[0], item)
