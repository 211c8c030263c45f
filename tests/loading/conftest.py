from collections.abc import Callable
from pathlib import Path

import pytest

from netverify.loading import yamlfast


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary directory that is also the current one, so file names in spans are short."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def yaml_rs_parses(monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[str]]:
    """Call it to record, from then on, every text the fast path gives yaml-rs to parse."""
    texts: list[str] = []
    real_loads = yamlfast.yaml_rs.loads

    def loads(text: str, **options: bool) -> object:
        texts.append(text)
        return real_loads(text, **options)

    def start() -> list[str]:
        monkeypatch.setattr(yamlfast.yaml_rs, "loads", loads)
        return texts

    return start
