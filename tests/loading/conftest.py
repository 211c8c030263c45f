from pathlib import Path

import pytest


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary directory that is also the current one, so file names in spans are short."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
