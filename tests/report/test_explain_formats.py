"""`explain` writes text and JSON only: the CI formats are a usage error there, not a crash."""

import pytest
from typer.testing import CliRunner

from netverify.cli.app import app
from tests.report.helpers import REPO


@pytest.mark.parametrize("output_format", ["sarif", "junit", "markdown", "github"])
def test_explain_rejects_formats_it_cannot_write(
    output_format: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(
        app,
        [
            *("explain", "examples/blog", "--from", "ns-3/pod3", "--to", "ns-2/pod2"),
            *("--port", "80/TCP", "--format", output_format),
        ],
    )
    assert result.exit_code == 2
    assert not isinstance(result.exception, UnboundLocalError)
