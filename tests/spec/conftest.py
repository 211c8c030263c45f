import shutil
from pathlib import Path

import pytest

from netverify.loading import load_manifests
from netverify.model import Cluster

REPO = Path(__file__).resolve().parents[2]
BLOG = REPO / "examples" / "blog"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary current directory holding a copy of the blog example in `blog/`."""
    shutil.copytree(BLOG, tmp_path / "blog")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="session")
def blog() -> Cluster:
    """The cluster of the bundled blog example (namespaces ns-1..3, pods pod1..3)."""
    return load_manifests([str(BLOG)]).cluster
