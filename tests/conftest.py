"""`--update-goldens` rewrites the golden files of every test directory from the current
output instead of comparing with them; review the change with `git diff`."""

import pytest

from tests.helpers import UPDATE_GOLDENS, Golden


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        UPDATE_GOLDENS,
        action="store_true",
        default=False,
        help="Rewrite the golden files (tests/*/goldens/) from the current output.",
    )


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Golden:
    """The golden files of the requesting test's directory (its `goldens/` folder)."""
    folder = request.path.parent / "goldens"
    return Golden(folder, bool(request.config.getoption(UPDATE_GOLDENS)))
