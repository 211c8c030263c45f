"""The domain's texts are remembered across encodings that read the same
(`ClusterEncoding.remembered`): an encoding that finds them writes none, and its domain is
the very term a fresh encoding builds; one that reads anything else never gets a stale text."""

from collections import OrderedDict
from collections.abc import Iterator
from ipaddress import ip_address, ip_network

import pytest

from netverify.encoding import classes, domain, remembered
from netverify.encoding import cluster as encodings
from netverify.encoding.cluster import ClusterEncoding
from netverify.model import (
    Cluster,
    ContainerPort,
    Direction,
    LabelSelector,
    Namespace,
    NetworkPolicy,
    Pod,
    PolicyPeer,
    PolicyRule,
    Settings,
)

SETTINGS = Settings(pod_cidrs=(ip_network("10.0.0.0/16"),))
PODS = (
    Pod(namespace="prod", name="web", labels={"app": "web"}, ips=(ip_address("10.0.0.1"),)),
    Pod(namespace="prod", name="db", labels={"app": "db"}, ports=(ContainerPort(port=5432),)),
)
POLICY = NetworkPolicy(
    namespace="prod",
    name="db",
    pod_selector=LabelSelector(match_labels={"app": "db"}),
    policy_types=frozenset({Direction.INGRESS}),
    ingress=(
        PolicyRule(
            peers=(PolicyPeer(namespace_selector=LabelSelector(match_labels={"team": "a"})),)
        ),
    ),
)


def _cluster(pods: tuple[Pod, ...] = PODS, team: str = "a") -> Cluster:
    return Cluster(
        namespaces=(Namespace(name="prod", labels={"team": team}),),
        pods=pods,
        policies=(POLICY,),
    )


def _forget() -> None:
    remembered._REMEMBERED = OrderedDict()
    classes._CLASSED = OrderedDict()


@pytest.fixture(autouse=True)
def forgotten() -> Iterator[None]:
    """Each test starts with nothing remembered, and leaves nothing behind."""
    saved = remembered._REMEMBERED, classes._CLASSED
    _forget()
    yield
    remembered._REMEMBERED, classes._CLASSED = saved


def _domain(cluster: Cluster, whole: Cluster | None = None) -> str:
    """The domain and `declared_port`, the encoding's terms written from texts."""
    encoding = ClusterEncoding(cluster, SETTINGS, whole=whole)
    declared = encoding.declared_port
    assert declared is not None
    return f"{encoding.domain.sexpr()}\n{declared.sexpr()}"


def _fresh(cluster: Cluster, whole: Cluster | None = None) -> str:
    saved = remembered._REMEMBERED, classes._CLASSED
    _forget()
    try:
        return _domain(cluster, whole)
    finally:
        remembered._REMEMBERED, classes._CLASSED = saved


def test_an_encoding_that_reads_the_same_writes_no_text(monkeypatch: pytest.MonkeyPatch) -> None:
    first = _domain(_cluster())
    written: list[str] = []
    write = domain.assertions_text

    def counting(lines: Iterator[str]) -> str:
        text = write(lines)
        written.append(text)
        return text

    monkeypatch.setattr(domain, "assertions_text", counting)
    monkeypatch.setattr(encodings, "assertions_text", counting)
    # Another cluster object of the same pods under another policy object alike.
    again = _domain(_cluster().model_copy(update={"policies": (POLICY.model_copy(),)}))
    assert written == []
    assert again == first


@pytest.mark.parametrize(
    "changed",
    [
        pytest.param(lambda: _cluster(team="b"), id="namespace labels"),
        pytest.param(
            lambda: _cluster(
                (
                    PODS[0],
                    PODS[1].model_copy(update={"labels": {"app": "store"}}),
                )
            ),
            id="pod labels",
        ),
        pytest.param(
            lambda: _cluster().model_copy(
                update={
                    "policies": (
                        POLICY.model_copy(
                            update={"pod_selector": LabelSelector(match_labels={"app": "web"})}
                        ),
                    )
                }
            ),
            id="a policy's mentions",
        ),
    ],
)
def test_an_encoding_that_reads_anything_else_gets_its_own_texts(changed: object) -> None:
    assert callable(changed)
    before = _domain(_cluster())
    cluster = changed()
    after = _domain(cluster)
    assert after == _fresh(cluster)
    assert after != before


def test_the_whole_clusters_addresses_are_read() -> None:
    """A slice of two different whole clusters: the other one's pod address is taken."""
    sliced = _cluster()
    before = _domain(sliced, whole=sliced)
    other = Pod(namespace="prod", name="cache", ips=(ip_address("10.0.0.9"),))
    whole = _cluster((*PODS, other))
    after = _domain(sliced, whole=whole)
    assert after == _fresh(sliced, whole=whole)
    assert after != before
