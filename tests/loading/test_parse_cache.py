"""Loads sharing a ParseCache parse a shared text once and still place every object in its
own file."""

from pathlib import Path

from netverify.loading import ParseCache, load_manifests
from netverify.model import ObjectRef

POD = """\
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
"""


def test_shared_text_is_parsed_once_and_located_in_each_file(tmp_path: Path) -> None:
    for side in ("base", "head"):
        (tmp_path / side).mkdir()
        (tmp_path / side / "pods.yaml").write_text(POD, encoding="utf-8")
    cache = ParseCache()
    base = load_manifests([str(tmp_path / "base")], parse_cache=cache)
    head = load_manifests([str(tmp_path / "head")], parse_cache=cache)
    uncached = load_manifests([str(tmp_path / "head")])
    assert head.cluster == uncached.cluster == base.cluster
    pod = ObjectRef(kind="Pod", namespace="shop", name="web")
    head_span, base_span = head.sources.of_object(pod), base.sources.of_object(pod)
    assert head_span == uncached.sources.of_object(pod)
    assert head_span is not None and head_span.file.endswith("head/pods.yaml")
    assert base_span is not None and base_span.file.endswith("base/pods.yaml")
    assert base_span.line == head_span.line == 5
