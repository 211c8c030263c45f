"""The HEAD revision of the benchmarks' `diff` phase: a PR of at most 20 changed policies (the
planted leak plus realistic edits) that still loads under `--strict`, the same on every run."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from benchmarks.pr import planted_leak, write_diff_head
from netverify.generate import MANIFEST_FILES, GeneratorOptions, WrittenCluster, write_cluster
from netverify.loading import load_manifests

OPTIONS = GeneratorOptions(namespaces=8, pods=120, policies=60, seed=5)


def _policies(folder: Path) -> list[dict[str, Any]]:
    text = (folder / "policies.yaml").read_text(encoding="utf-8")
    return [document for document in yaml.safe_load_all(text) if document]


@pytest.fixture(scope="module")
def clusters(tmp_path_factory: pytest.TempPathFactory) -> tuple[WrittenCluster, WrittenCluster]:
    base = write_cluster(OPTIONS, tmp_path_factory.mktemp("base"))
    options = GeneratorOptions(**{**OPTIONS.__dict__, "leak": True})
    return base, write_cluster(options, tmp_path_factory.mktemp("leak"))


def test_the_leak_is_one_added_ingress_rule(
    clusters: tuple[WrittenCluster, WrittenCluster],
) -> None:
    base, leak = clusters
    site = leak.generated.leak
    assert site is not None
    index = planted_leak(_policies(base.folder), _policies(leak.folder))
    metadata = _policies(leak.folder)[index]["metadata"]
    assert metadata == {"name": site.policy, "namespace": site.namespace}


def test_a_second_change_is_refused(clusters: tuple[WrittenCluster, WrittenCluster]) -> None:
    base, leak = clusters
    changed = _policies(leak.folder)
    changed[0]["metadata"] = {"name": "renamed", "namespace": "elsewhere"}
    with pytest.raises(ValueError, match="one ingress rule"):
        planted_leak(_policies(base.folder), changed)


def test_head_changes_at_most_20_valid_policies(
    clusters: tuple[WrittenCluster, WrittenCluster], tmp_path: Path
) -> None:
    base, leak = clusters
    changes = write_diff_head(base.folder, leak.folder, tmp_path)
    before, after = _policies(base.folder), _policies(tmp_path)
    differing = [b for a, b in zip(before, after, strict=True) if a != b]
    assert len(differing) == len(changes) == 20
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(MANIFEST_FILES)
    load_manifests([str(tmp_path)], strict=True)
    for policy in differing:
        for direction in ("ingress", "egress"):
            for rule in policy["spec"].get(direction, []):
                for port in rule.get("ports", []):
                    if "endPort" in port:
                        assert isinstance(port["port"], int) and port["endPort"] > port["port"]


def test_head_is_the_same_on_every_run(
    clusters: tuple[WrittenCluster, WrittenCluster], tmp_path: Path
) -> None:
    base, leak = clusters
    first = write_diff_head(base.folder, leak.folder, tmp_path / "first")
    second = write_diff_head(base.folder, leak.folder, tmp_path / "second")
    assert first == second
    for name in MANIFEST_FILES:
        assert (tmp_path / "first" / name).read_bytes() == (tmp_path / "second" / name).read_bytes()
