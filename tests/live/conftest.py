"""Every test here talks to a fake API server on 127.0.0.1 (`apiserver.py`)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live.apiserver import FakeCluster, fake_cluster

pytest.importorskip("kubernetes")


@pytest.fixture
def api(tmp_path: Path) -> Iterator[FakeCluster]:
    with fake_cluster(tmp_path) as cluster:
        yield cluster
