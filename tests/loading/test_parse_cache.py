"""Loads sharing a ParseCache parse a shared text once and still place every object in its
own file."""

from collections.abc import Callable
from pathlib import Path

from netverify.loading import ParseCache, load_manifests
from netverify.model import Direction, ObjectRef, RuleRef, SourceSpan

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


POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: NAME, namespace: shop}
spec:
  podSelector: {}
  ingress:
  - from:
    - podSelector: {matchLabels: {app: web}}
"""


def test_a_changed_file_reuses_its_unchanged_documents_at_their_new_lines(
    tmp_path: Path, yaml_rs_parses: Callable[[], list[str]]
) -> None:
    """HEAD inserts a policy before BASE's one: only the new document is parsed, and the
    moved one's object and rule lines are where HEAD has them."""
    old = POLICY.replace("NAME", "old")
    texts = {
        "base": POD + "---\n" + old,
        "head": POD + "---\n" + POLICY.replace("NAME", "new") + "---\n" + old,
    }
    for side, text in texts.items():
        (tmp_path / side).mkdir()
        (tmp_path / side / "all.yaml").write_text(text, encoding="utf-8")
    cache = ParseCache()
    load_manifests([str(tmp_path / "base")], parse_cache=cache)
    parsed = yaml_rs_parses()
    head = load_manifests([str(tmp_path / "head")], parse_cache=cache)
    assert parsed == ["---\n" + POLICY.replace("NAME", "new")]
    uncached = load_manifests([str(tmp_path / "head")])
    assert head.cluster == uncached.cluster
    assert head.sources.objects == uncached.sources.objects
    assert head.sources.rules == uncached.sources.rules
    moved = ObjectRef(kind="NetworkPolicy", namespace="shop", name="old")
    rule = RuleRef(policy=moved, direction=Direction.INGRESS, index=0)
    assert [head.sources.of_object(moved), head.sources.of_rule(rule)] == [
        SourceSpan(file=str(tmp_path / "head" / "all.yaml"), line=line) for line in (18, 24)
    ]


def test_objects_of_shared_documents_are_read_once_unless_they_reported(
    tmp_path: Path,
) -> None:
    """The second load takes the first's objects read from the same data; an object whose
    read reported a warning is read again, so that the warning names its own file."""
    warned = POLICY.replace("NAME", "warned").replace("spec:\n", "spec:\n  unknownField: 1\n")
    text = POD + "---\n" + POLICY.replace("NAME", "clean") + "---\n" + warned
    for side in ("base", "head"):
        (tmp_path / side).mkdir()
        (tmp_path / side / "all.yaml").write_text(text, encoding="utf-8")
    cache = ParseCache()
    base = load_manifests([str(tmp_path / "base")], parse_cache=cache)
    head = load_manifests([str(tmp_path / "head")], parse_cache=cache)
    assert head.cluster == base.cluster == load_manifests([str(tmp_path / "head")]).cluster
    assert head.cluster.pods[0] is base.cluster.pods[0]
    clean, warned_policy = head.cluster.policies
    assert clean is base.cluster.policies[0]
    assert warned_policy is not base.cluster.policies[1]
    (warning,) = head.warnings
    assert warning.span is not None and warning.span.file.endswith("head/all.yaml")
