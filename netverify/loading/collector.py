"""Loading without Python's cycle collector running.

Parsed manifests are hundreds of thousands of fresh dicts and lists, and loading builds as
many model objects: each batch of allocations would start a collection that walks
everything still alive, about 40% of loading the 10,000-pod tier, for no cycle ever made.
"""

import functools
import gc
from collections.abc import Callable
from typing import ParamSpec, TypeVar

_P = ParamSpec("_P")
_R = TypeVar("_R")


def without_cycle_collection(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """`function`, run with the cycle collector paused (as it was before, afterwards);
    reference counting still frees everything that is dropped."""

    @functools.wraps(function)
    def paused(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        if not gc.isenabled():
            return function(*args, **kwargs)
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            gc.enable()

    return paused
