"""Fuzz tests (`@pytest.mark.fuzz`) run only when asked: `-m fuzz` or `NETVERIFY_FUZZ=1`."""

import os

import pytest

FUZZ_VARIABLE = "NETVERIFY_FUZZ"


def fuzz_requested(config: pytest.Config) -> bool:
    marker_expression = str(config.getoption("markexpr", "") or "")
    selected = "fuzz" in marker_expression and "not fuzz" not in marker_expression
    return selected or os.environ.get(FUZZ_VARIABLE) == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if fuzz_requested(config):
        return
    skip = pytest.mark.skip(reason=f"long fuzz run: use -m fuzz or {FUZZ_VARIABLE}=1")
    for item in items:
        if "fuzz" in item.keywords:
            item.add_marker(skip)
