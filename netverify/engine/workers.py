"""Independent jobs of one command in worker processes, results in the jobs' order.

`prove` proves its parts, `prove --all` searches its violated invariants and `fix` repairs
them, each job taking seconds on a large cluster. Workers are started with `spawn` (a fork
would copy whatever Z3 contexts the parent holds) and each is handed what every job shares
once, when it starts; a job then sends only its own item.
"""

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")


def in_workers(
    shared: S,
    work: Callable[[S, T], R],
    items: Sequence[T],
    jobs: int,
    one_per_process: bool = False,
    done: Callable[[int], None] | None = None,
) -> list[R]:
    """`work(shared, item)` for each item, in at most `jobs` processes at once; the results
    in the order of `items`. `work` must be a module-level function (it is sent by name).
    With `one_per_process`, each item gets a process of its own, for work whose result
    could depend on what ran before it in the process (Z3's term ids, so its models).
    `done` is told each item's index as its result comes in."""
    results: dict[int, R] = {}
    with ProcessPoolExecutor(
        max_workers=min(jobs, len(items)),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start,
        initargs=(shared,),
        max_tasks_per_child=1 if one_per_process else None,
    ) as pool:
        futures = {pool.submit(_run, work, item): index for index, item in enumerate(items)}
        for future in as_completed(futures):
            index = futures[future]
            results[index] = future.result()
            if done:
                done(index)
    return [results[index] for index in range(len(items))]


_shared: list[object] = []
"""In a worker process: what every job shares, as `in_workers` was given it."""


def _start(shared: object) -> None:
    _shared.append(shared)


def _run(work: Callable[[Any, T], R], item: T) -> R:
    return work(_shared[0], item)
