"""Independent jobs of one command in worker processes, results in the jobs' order.

`prove` proves its parts, `prove --all` searches its violated invariants and `fix` repairs
them, each job taking seconds on a large cluster. Workers are started with `spawn` (a fork
would copy whatever Z3 contexts the parent holds) and each is handed what every job shares
once, when it starts; a job then sends only its own item. A start imports netverify and
unpickles what is shared (about 0.8 s of CPU on the 5,000-pod tier), so one command's jobs
share one pool (`Workers`), started when first needed.
"""

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Generic, TypeVar

S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")


class Workers(Generic[S]):
    """At most `jobs` worker processes of one command, each handed `shared` when it starts;
    a context manager that ends them. Jobs whose result could depend on what ran before
    them in the process (Z3's term ids, so its models) must make it not depend on it (see
    `collector_paused`): jobs share processes here."""

    def __init__(self, shared: S, jobs: int) -> None:
        self.shared = shared
        self.jobs = jobs
        self._pool: ProcessPoolExecutor | None = None

    def worth(self, tasks: int) -> bool:
        """Whether `tasks` jobs go to the worker processes rather than this one: when the
        workers are started already, or more than one job may run at once and there is
        more than one task."""
        return self._pool is not None or (self.jobs > 1 and tasks > 1)

    def map(
        self,
        work: Callable[[S, T], R],
        items: Sequence[T],
        done: Callable[[int], None] | None = None,
    ) -> list[R]:
        """`work(shared, item)` for each item in the worker processes (started now if they
        are not yet); the results in the order of `items`. `work` must be a module-level
        function (it is sent by name). `done` is told each item's index as its result
        comes in."""
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.jobs,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start,
                initargs=(self.shared,),
            )
        futures = {self._pool.submit(_run, work, item): index for index, item in enumerate(items)}
        results: dict[int, R] = {}
        for future in as_completed(futures):
            index = futures[future]
            results[index] = future.result()
            if done:
                done(index)
        return [results[index] for index in range(len(items))]

    def __enter__(self) -> "Workers[S]":
        return self

    def __exit__(self, *exception: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)


def in_workers(shared: S, work: Callable[[S, T], R], items: Sequence[T], jobs: int) -> list[R]:
    """`Workers.map` in a pool of its own, of at most `jobs` processes (fewer for fewer
    items), ended when the results are in."""
    with Workers(shared, min(jobs, len(items))) as workers:
        return workers.map(work, items)


_shared: list[object] = []
"""In a worker process: what every job shares, as `Workers` was given it."""


def _start(shared: object) -> None:
    _shared.append(shared)


def _run(work: Callable[[Any, T], R], item: T) -> R:
    return work(_shared[0], item)
