"""Long lists of names, cut for reading in a terminal."""

from collections.abc import Sequence

NAMES_SHOWN = 10
"""How many names a summary line lists before it says how many more there are."""


def names(listed: Sequence[str], limit: int | None = NAMES_SHOWN) -> str:
    """`a, b, c` or, past `limit`, `a, b, c, ... and 7 more` (`None`: every name)."""
    if limit is None or len(listed) <= limit:
        return ", ".join(listed)
    return ", ".join(listed[:limit]) + f", ... and {len(listed) - limit} more"
