"""A patch's hunks are the ones difflib writes over the whole file, though only the changed
lines are given to difflib's matcher."""

import difflib
from collections.abc import Callable

import pytest

from netverify.engine.fix.patch import _hunks

Edit = Callable[[list[str]], list[str]]


def _policy(index: int) -> list[str]:
    return [
        "---\n",
        "apiVersion: networking.k8s.io/v1\n",
        "kind: NetworkPolicy\n",
        "metadata:\n",
        f"  name: allow-{index % 7}\n",
        f"  namespace: team-{index}\n",
        "spec:\n",
        "  podSelector: {}\n",
        "  ingress:\n",
        "  - from:\n",
        "    - podSelector: {}\n",
        "    ports:\n",
        "    - protocol: TCP\n",
        "      port: 8080\n",
        "  - from:\n",
        "    - podSelector: {}\n",
        "  policyTypes:\n",
        "  - Ingress\n",
    ]


FILE = [row for index in range(40) for row in _policy(index)]
"""720 lines, most of them repeated in every document (difflib's "popular" lines)."""


def _middle(offset: int) -> int:
    return len(FILE) // 2 + offset


EDITS: dict[str, Edit] = {
    "one line changed": lambda rows: [
        *rows[: _middle(0)],
        "    - podSelector: {matchLabels: {app: web}}\n",
        *rows[_middle(1) :],
    ],
    "a rule removed": lambda rows: rows[: _middle(-4)] + rows[_middle(-2) :],
    "lines inserted": lambda rows: [
        *rows[: _middle(3)],
        "      matchExpressions:\n",
        "      - {key: env, operator: NotIn, values: [dev]}\n",
        *rows[_middle(3) :],
    ],
    "a document appended": lambda rows: rows + _policy(99),
    "a rule removed and a document appended": lambda rows: [
        *rows[:9],
        *rows[14:],
        *_policy(99),
    ],
    "a document repeated": lambda rows: rows[:36] + _policy(2) + rows[36:],
    "the first line changed": lambda rows: ["# comment\n", *rows[1:]],
    "the last newline dropped": lambda rows: [*rows[:-1], rows[-1].rstrip("\n")],
    "nothing changed": lambda rows: list(rows),
    "everything removed": lambda rows: [],
}


@pytest.mark.parametrize("edit", EDITS.values(), ids=EDITS.keys())
def test_the_hunks_are_difflibs(edit: Edit) -> None:
    after = edit(FILE)
    assert _hunks(FILE, after) == list(difflib.unified_diff(FILE, after))[2:]


def test_a_new_file_is_one_hunk() -> None:
    assert _hunks([], FILE[:3]) == ["@@ -0,0 +1,3 @@\n", *("+" + row for row in FILE[:3])]
