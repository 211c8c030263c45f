"""What an encoding works out of its inputs as plain data (SMT-LIB texts of its large
tables, the tables' rows), remembered across encodings that read the same: `fix` encodes
one slice of each candidate after another, the same pods, namespaces and (mostly) universe
under other policies.

Only data is remembered, never a term: each encoding parses its texts into its own Z3
context, in the order it would have written them, so its terms, and the flows its solver
returns, are those of an encoding that worked them out afresh.
"""

from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar, cast

_Value = TypeVar("_Value")

REMEMBERED = 4
"""How many keys' values are kept, the most recently used."""


class Remembered:
    """The values of encodings with one key (see `remembered`), by name."""

    def __init__(self, held: tuple[object, ...]) -> None:
        self.held = held
        """What the key names by id, kept so that no id in it is reused."""
        self.values: dict[tuple[str, ...], object] = {}

    def value(self, name: tuple[str, ...], work_out: Callable[[], _Value]) -> _Value:
        """The value called `name`, worked out if not yet remembered. It is shared by every
        encoding with the key: an immutable value, or one nobody changes."""
        if name not in self.values:
            self.values[name] = work_out()
        return cast(_Value, self.values[name])


_REMEMBERED: "OrderedDict[tuple[object, ...], Remembered]" = OrderedDict()


def remembered(key: tuple[object, ...], held: tuple[object, ...]) -> Remembered:
    """The values of encodings whose inputs to them are `key`: hashable values, and ids of
    the objects in `held`. Every value worked out through the result must depend on
    nothing the key does not say."""
    found = _REMEMBERED.get(key)
    if found is None:
        found = _REMEMBERED[key] = Remembered(held)
        while len(_REMEMBERED) > REMEMBERED:
            _REMEMBERED.popitem(last=False)
    else:
        _REMEMBERED.move_to_end(key)
    return found
