"""`--update-matrix-goldens` rewrites the matrix golden files instead of comparing with them."""

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-matrix-goldens",
        action="store_true",
        default=False,
        help="Rewrite tests/matrix/goldens/* from the current output.",
    )


@pytest.fixture
def update_matrix_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-matrix-goldens"))
