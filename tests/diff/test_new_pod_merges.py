"""`diff --pods any`: groups of pods that could exist merged where the policies treat them
alike, so that one cause is one finding, not one per label value or port number."""

from dataclasses import replace
from pathlib import Path

import z3

from netverify.encoding.groups import NewPodGroup, Pair, Wild
from netverify.engine import SolverLimits
from netverify.engine.diff import diff
from netverify.engine.diff.findings import Product
from netverify.engine.diff.narrowing import apart
from netverify.engine.diff.revisions import Revisions
from netverify.engine.diff.search import DiffSearch
from netverify.engine.diff.symbolic import SymbolicDiff
from netverify.loading import load_manifests
from netverify.model import (
    ContainerPort,
    Flow,
    LoadedCluster,
    NamespaceScope,
    Pod,
    PodEndpoint,
    PodScope,
    PortRange,
    Protocol,
    Settings,
)
from netverify.model.diff import Change, DiffReport, EndpointGroup
from netverify.report.describe import describe_group

NAMESPACES = """\
apiVersion: v1
kind: Namespace
metadata: {name: dev, labels: {env: dev}}
---
apiVersion: v1
kind: Namespace
metadata: {name: prod, labels: {env: prod}}
---
"""
SCRAPE_POLICIES = """\
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: scrape, namespace: prod}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {env: dev}}
          podSelector: {matchLabels: {app: prometheus}}
      ports: [{protocol: TCP, port: http}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-ingress, namespace: prod}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
"""
"""prometheus of dev reaches the web pods' port `http`; the web pods admit nothing else."""
DEV_PODS = """\
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: dev, labels: {app: api}}
---
apiVersion: v1
kind: Pod
metadata: {name: batch, namespace: dev, labels: {app: batch}}
---
"""
"""Two pods of dev, api and batch."""
SCRAPE_CLUSTER = (
    NAMESPACES
    + DEV_PODS
    + """\
apiVersion: v1
kind: Pod
metadata: {name: prometheus, namespace: dev, labels: {app: prometheus}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-ingress, namespace: dev}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress: [{}]
"""
    + SCRAPE_POLICIES
)
"""prometheus reaches the web pods' port `http` already; the other dev pods nothing (api
and batch are two classes: a policy selects api)."""
SCRAPE_HEAD_RULES = """\
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {env: dev}}
      ports: [{protocol: TCP, port: 8080}]
"""


def _diff(tmp_path: Path, cluster: str, head_rules: str) -> DiffReport:
    revisions, _ = _search(tmp_path, cluster, head_rules)
    return diff(
        LoadedCluster(cluster=revisions.base),
        LoadedCluster(cluster=revisions.head),
        Settings(),
        PodScope.ANY,
        NamespaceScope.EXISTING,
        SolverLimits(),
        labels=("BASE", "HEAD"),
    )


def test_sources_of_a_group_of_new_pods_are_dropped_by_the_group_that_holds_them(
    tmp_path: Path,
) -> None:
    """HEAD opens 8080 of the web pods to every dev pod. New web pods whose `http` is 8080
    were open to prometheus already: confirming the product of api's witness (to a new web
    pod) drops prometheus, the group that holds the solver's odd flow (to a new pod that
    numbers `http`), and keeps batch; it used to look for the odd flow's own new pod among
    the groups, find none, and fall back to api alone."""
    product = _api_to_a_new_web_pod(tmp_path, SCRAPE_CLUSTER, SCRAPE_HEAD_RULES)
    names = {pod for _, group in product.sources for pod in group.pods}
    assert names == {"api", "batch"}
    (destination,) = product.destinations
    assert destination[1].kind == "new-pod" and destination[1].labels == {"app": "web"}


API_TO_WEB_CLUSTER = (
    NAMESPACES
    + DEV_PODS
    + """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-ingress, namespace: prod}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
"""
)
"""The web pods of prod (none exists) admit nothing."""
API_TO_WEB_RULES = """\
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {env: dev}}
          podSelector: {matchLabels: {app: api}}
      ports: [{protocol: TCP, port: 8080}]
"""


def test_a_finding_from_an_existing_pod_takes_in_the_new_pods_like_it(tmp_path: Path) -> None:
    """HEAD opens 8080 of the web pods to the api pods of dev. The finding of the existing
    api pod's witness takes in the new pods of dev with its label (the same rule's), which
    were a finding of their own when found later; not batch."""
    product = _api_to_a_new_web_pod(tmp_path, API_TO_WEB_CLUSTER, API_TO_WEB_RULES)
    kinds = [(group.kind, group.labels, group.pods) for _, group in product.sources]
    assert kinds == [("pods", {"app": "api"}, ("api",)), ("new-pod", {"app": "api"}, ())]
    (new_pods,) = [key for key, _ in product.sources if isinstance(key, NewPodGroup)]
    assert new_pods.namespace == "dev"
    (tmp_path / "whole").mkdir()
    report = _diff(tmp_path / "whole", API_TO_WEB_CLUSTER, API_TO_WEB_RULES)
    assert report.complete and report.error is None and len(report.findings) == 1


def test_new_pods_a_rule_treats_alike_are_few_findings(tmp_path: Path) -> None:
    """The whole diff: two findings (new web pods that number `http` as the flow's port,
    which prometheus reached already, and the others), each replayed, complete."""
    report = _diff(tmp_path, SCRAPE_CLUSTER, SCRAPE_HEAD_RULES)
    assert report.complete and report.error is None
    assert len(report.findings) <= 3
    assert all(f.ports == (PortRange(start=8080, end=8080),) for f in report.findings)
    assert {f.change for f in report.findings} == {Change.ADDED}


def _api_to_a_new_web_pod(tmp_path: Path, cluster: str, head_rules: str) -> Product:
    """The product `_product` makes of the added flow from dev's api pod to a new web pod of
    prod on TCP/8080, on the solver as `changes` sets it up around `_product`."""
    revisions, search = _search(tmp_path, cluster, head_rules)
    prod = revisions.merged.namespace("prod")
    assert prod is not None
    web = PodEndpoint(namespace=prod, pod=Pod(namespace="prod", name=None, labels={"app": "web"}))
    api = next(pod for pod in revisions.merged.pods if pod.name == "api")
    flow = Flow(source=revisions.endpoint(api), destination=web, protocol=Protocol.TCP, port=8080)
    solver = search.symbolic.solver
    now, before = search.symbolic.now_before(Change.ADDED)
    solver.push()
    solver.add(now, z3.Not(before))
    product = search._product(Change.ADDED, flow)
    solver.pop()
    return product


def _search(tmp_path: Path, cluster: str, head_rules: str) -> tuple[Revisions, DiffSearch]:
    sides = []
    for name, text in (("base", cluster), ("head", cluster + head_rules)):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "cluster.yaml").write_text(text, encoding="utf-8")
        sides.append(load_manifests([str(folder)]).cluster)
    revisions = Revisions(sides[0], sides[1], Settings())
    symbolic = SymbolicDiff(revisions, PodScope.ANY, NamespaceScope.EXISTING, SolverLimits())
    return revisions, DiffSearch(symbolic)


def _group(
    labels: tuple[int | frozenset[int] | None, ...], ports: tuple[object, ...]
) -> NewPodGroup:
    return NewPodGroup(
        namespace="prod",
        label_codes=labels,
        named_ports=ports,  # type: ignore[arg-type]
        segment=Wild.ANY,
        outside=(PortRange(start=8443, end=8443),),
    )


def test_a_group_is_told_apart_from_a_reported_one_by_what_that_one_asks() -> None:
    """A group of new pods that overlaps a reported group is narrowed by what the reported
    group asks (its named port `undefined or not the flow's port`, a label value it pins
    or excludes), keeping the witness's pod; not by the first attribute that differs. A
    port the reported group leaves out of the group's own ranges is "inside them"."""
    every = _group((None, None), (Wild.ANY, Wild.ANY))
    own = _group((2, 1), (8443, None))
    not_the_flows_port = _group((None, None), (Wild.ANY, Wild.OUTSIDE))
    assert apart(every, own, not_the_flows_port) is None  # own's second port is undefined
    own_numbered = _group((2, 1), (1, 8443))
    narrowed = apart(every, own_numbered, not_the_flows_port)
    assert narrowed is not None and narrowed.named_ports == (Wild.ANY, Wild.INSIDE)
    assert narrowed.covers(own_numbered) and not narrowed.covers(own)
    elsewhere = replace(not_the_flows_port, outside=(PortRange(start=8000, end=9000),))
    narrowed = apart(every, own_numbered, elsewhere)  # not the group's ranges: the number
    assert narrowed is not None and narrowed.named_ports == (Wild.ANY, 8443)
    pinned_label = _group((3, None), (Wild.ANY, Wild.ANY))
    narrowed = apart(every, own, pinned_label)
    assert narrowed is not None and narrowed.label_codes == (frozenset({3}), None)
    excluding = _group((frozenset({2}), None), (Wild.ANY, Wild.ANY))
    narrowed = apart(every, own, excluding)
    assert narrowed is not None and narrowed.label_codes == (2, None)
    combination = ((0, 2), (1, 1))
    without = NewPodGroup(
        namespace="prod",
        label_codes=(None, None),
        named_ports=(Wild.ANY, Wild.ANY),
        segment=Wild.ANY,
        excluded=(combination,),
    )
    narrowed = apart(every, own, without)
    assert narrowed is not None and narrowed.label_codes == (2, 1)


SCRAPED_CLUSTER = (
    NAMESPACES
    + """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: tier-x, namespace: prod}
spec:
  podSelector: {matchLabels: {tier: x}}
  ingress:
    - from: [{podSelector: {matchLabels: {app: none}}}]
      ports: [{protocol: TCP, port: grpc}]
"""
    + SCRAPE_POLICIES
)
"""New dev prometheus pods reach new web pods' port `http` already."""


def _new(revisions: Revisions, namespace: str, labels: dict[str, str], **ports: int) -> PodEndpoint:
    found = revisions.merged.namespace(namespace)
    assert found is not None
    pod = Pod(
        namespace=namespace,
        name=None,
        labels=labels,
        ports=tuple(ContainerPort(name=name, port=number) for name, number in ports.items()),
    )
    return PodEndpoint(namespace=found, pod=pod)


def test_a_flow_odd_by_both_ends_together_is_told_apart_by_what_the_evaluator_blames(
    tmp_path: Path,
) -> None:
    """HEAD opens 8080 of the web pods to every dev pod. A new prometheus pod to a new web
    pod whose `http` is 8080 was allowed already: odd by both ends together, neither end
    alone. The evaluator blames `http` at the web pods facing the odd source, and the label
    `app` at the sources facing the odd web pod: the sources exclude prometheus pods (who
    they are), and the web pods stay whole, not split by their number for `http` (one
    finding per kind of source, not two) nor by the first attribute that differs (`grpc`,
    which no rule of the flow names: one group per number)."""
    revisions, search = _search(tmp_path, SCRAPED_CLUSTER, SCRAPE_HEAD_RULES)
    flow = Flow(
        source=_new(revisions, "dev", {}),
        destination=_new(revisions, "prod", {"app": "web"}),
        protocol=Protocol.TCP,
        port=8080,
    )
    odd = Flow(
        source=_new(revisions, "dev", {"app": "prometheus"}),
        destination=_new(revisions, "prod", {"app": "web", "tier": "x"}, grpc=9, http=8080),
        protocol=Protocol.TCP,
        port=8080,
    )
    witness = revisions.replayed(Change.ADDED, flow)
    keys = search.symbolic.groups
    owns = Pair(keys.key_of(flow.source), keys.key_of(flow.destination))
    trial = Pair(*(_every(key, witness.ports) for key in (owns.source, owns.destination)))
    narrower = search.grouping._narrower(witness, trial, "destination", owns, odd)
    assert narrower is not None and narrower.destination == trial.destination
    source = narrower.source
    assert isinstance(source, NewPodGroup) and isinstance(trial.source, NewPodGroup)
    assert source.named_ports == trial.source.named_ports
    labels = search.grouping.attributes.label_keys
    changed = {
        labels[i]: code
        for i, (code, before) in enumerate(
            zip(source.label_codes, trial.source.label_codes, strict=True)
        )
        if code != before
    }
    prometheus = keys.key_of(odd.source)
    assert isinstance(prometheus, NewPodGroup)
    assert changed == {"app": frozenset({prometheus.label_codes[labels.index("app")]})}


def _every(key: object, ports: tuple[PortRange, ...]) -> NewPodGroup:
    assert isinstance(key, NewPodGroup)
    return NewPodGroup(
        namespace=key.namespace,
        label_codes=(None,) * len(key.label_codes),
        named_ports=(Wild.ANY,) * len(key.named_ports),
        segment=Wild.ANY,
        outside=ports,
    )


def test_a_named_port_inside_the_flows_ports_reads_as_such() -> None:
    """A group of new pods whose named port is numbered inside the flow's ports
    (`Wild.INSIDE`) is told as "= the flow's port", a number as "= 8443"."""
    group = EndpointGroup(
        kind="new-pod",
        namespace="prod",
        named_ports={"metrics/TCP": "the flow's port", "grpc/TCP": "8443"},
    )
    text = describe_group(group)
    assert "port metrics/TCP = the flow's port" in text and "port grpc/TCP = 8443" in text
    ranges = group.model_copy(update={"named_ports": {"grpc/TCP": "one of the flow's ports"}})
    assert "port grpc/TCP is one of the flow's ports" in describe_group(ranges)
