"""`pod_classes` remembers pods' traits and classes across encodings (`fix` encodes one
slice per candidate), keyed so that a changed policy's mentions never reuse a stale entry:
the classes are always those of a fresh classing."""

from collections import OrderedDict
from collections.abc import Iterator

import pytest

from netverify.encoding import classes
from netverify.encoding.classes import PodClass, pod_classes
from netverify.encoding.universe import Universe, build_universe
from netverify.model import (
    Cluster,
    ContainerPort,
    Direction,
    LabelSelector,
    Namespace,
    NetworkPolicy,
    Pod,
)

PODS = (
    Pod(namespace="prod", name="web", labels={"app": "web"}),
    Pod(namespace="prod", name="api", labels={"app": "api"}),
    Pod(namespace="prod", name="db", labels={"app": "db"}, ports=(ContainerPort(port=5432),)),
)


def _policy(app: str) -> NetworkPolicy:
    return NetworkPolicy(
        namespace="prod",
        name=f"allow-{app}",
        pod_selector=LabelSelector(match_labels={"app": app}),
        policy_types=frozenset({Direction.INGRESS}),
    )


def _universe(*apps: str) -> Universe:
    cluster = Cluster(
        namespaces=(Namespace(name="prod"),),
        pods=PODS,
        policies=tuple(_policy(app) for app in apps),
    )
    return build_universe([cluster], (), ())


@pytest.fixture(autouse=True)
def forgotten() -> Iterator[None]:
    """Each test starts with nothing remembered, and leaves nothing behind."""
    saved = classes._CLASSED
    classes._CLASSED = OrderedDict()
    yield
    classes._CLASSED = saved


def _fresh(universe: Universe, pinned: set[tuple[str, str, str | None]]) -> list[PodClass]:
    saved = classes._CLASSED
    classes._CLASSED = OrderedDict()
    try:
        return pod_classes(PODS, universe, pinned)
    finally:
        classes._CLASSED = saved


def test_the_same_pods_are_classed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    universe = _universe("web")
    first = pod_classes(PODS, universe, set())
    counted: list[Pod] = []
    traits = classes._traits

    def counting(pod: Pod, universe: Universe) -> classes._Traits:
        counted.append(pod)
        return traits(pod, universe)

    monkeypatch.setattr(classes, "_traits", counting)
    # Another universe object that mentions the same, and a new tuple of the same pods.
    again = pod_classes(tuple(PODS), _universe("web"), set())
    assert again == first
    assert counted == []
    # Other pods under the same mentions: only the new pod's traits are worked out.
    extra = Pod(namespace="prod", name="cache", labels={"app": "cache"})
    pod_classes((*PODS, extra), universe, set())
    assert counted == [extra]


def test_a_new_mention_is_not_served_stale() -> None:
    before = pod_classes(PODS, _universe("web"), set())
    # A candidate's policy selects `app: api`: api's label code is no longer `other`.
    changed = _universe("web", "api")
    after = pod_classes(PODS, changed, set())
    assert after == _fresh(changed, set())
    assert after != before
    assert len(after) == len(before) + 1


def test_pinned_pods_are_not_served_unpinned() -> None:
    universe = _universe()
    unpinned = pod_classes(PODS, universe, set())
    pinned = pod_classes(PODS, universe, {("prod", "Pod", "web")})
    assert pinned == _fresh(universe, {("prod", "Pod", "web")})
    assert len(unpinned) == 1
    assert len(pinned) == 2
