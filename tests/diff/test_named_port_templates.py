"""`diff --pods any` where a change depends on the number a new pod gives a named port: one
finding for every number, not one per number, and every changed flow of sampled new pods
in exactly one finding (brute force through the reference evaluator)."""

from itertools import product
from pathlib import Path

from netverify.engine import SolverLimits
from netverify.engine.diff import diff
from netverify.loading import load_manifests
from netverify.model import (
    ContainerPort,
    Endpoint,
    ExternalEndpoint,
    Flow,
    NamespaceScope,
    Pod,
    PodEndpoint,
    PodScope,
    PortRange,
    Protocol,
    Settings,
)
from netverify.model.diff import DiffFinding, DiffReport, EndpointGroup
from netverify.report.describe import finding_title
from netverify.semantics import evaluate

CLUSTER = """\
apiVersion: v1
kind: Namespace
metadata: {name: prod}
---
apiVersion: v1
kind: Namespace
metadata: {name: monitoring}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-ingress, namespace: prod}
spec:
  podSelector: {matchLabels: {tier: db}}
  policyTypes: [Ingress]
  ingress:
    - from: [{podSelector: {matchLabels: {tier: backend}}}]
      ports: [{protocol: TCP, port: mongodb}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-ingress, namespace: prod}
spec:
  podSelector: {matchLabels: {tier: web}}
  policyTypes: [Ingress]
  ingress:
    - from: [{ipBlock: {cidr: 0.0.0.0/0}}]
      ports: [{protocol: TCP, port: http}]
    - from:
        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}
          podSelector: {matchLabels: {app: prometheus}}
      ports: [{protocol: TCP, port: metrics}]
    - ports:
"""
BASE_TAIL = """\
        - {protocol: TCP, port: 8080}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: backend-egress, namespace: prod}
spec:
  podSelector: {matchLabels: {tier: backend}}
  policyTypes: [Egress]
  egress:
    - to: [{podSelector: {matchLabels: {tier: db}}}]
      ports: [{protocol: TCP, port: 27017}]
"""
HEAD_TAIL = BASE_TAIL.replace("port: 8080}", "port: 8080, endPort: 8090}").replace(
    "port: 27017}", "port: 27017, endPort: 27027}"
)
PORTS = (27016, 27017, 27018, 27022, 27027, 27028, 8079, 8080, 8081, 8085, 8090, 8091)


def _report(tmp_path: Path) -> tuple[DiffReport, Path, Path]:
    base, head = tmp_path / "base", tmp_path / "head"
    for folder, tail in ((base, BASE_TAIL), (head, HEAD_TAIL)):
        folder.mkdir()
        (folder / "cluster.yaml").write_text(CLUSTER + tail, encoding="utf-8")
    report = diff(
        load_manifests([str(base)]),
        load_manifests([str(head)]),
        Settings(),
        PodScope.ANY,
        NamespaceScope.EXISTING,
        SolverLimits(),
        max_findings=40,
    )
    return report, base, head


def test_a_range_opened_to_a_named_port_is_one_finding_whatever_the_number(
    tmp_path: Path,
) -> None:
    """The backend's egress widens 27017 to 27017-27027 towards db pods that admit their
    port `mongodb`: new db pods whose `mongodb` is in 27018-27027 gain it, one finding;
    the web pods' ingress widens 8080 to 8080-8090 where their port `http` was open to
    every address already: one finding "but the destination's port http", not one per
    number either names."""
    report, _, _ = _report(tmp_path)
    assert report.complete and report.error is None
    titles = [finding_title(finding) for finding in report.findings]
    to_db = [f for f in report.findings if f.named_port == "mongodb"]
    assert len(to_db) == 1, titles
    assert to_db[0].destination.named_ports == {"mongodb/TCP": "in 27018-27027"}
    web = [f for f in report.findings if f.except_named_ports == ("http",)]
    assert web, titles
    assert "TCP/8081-8090 except the destination's port http" in finding_title(web[0])
    assert not any("http/TCP = 80" in title for title in titles), titles


def test_new_pods_scraped_on_a_named_port_are_told_apart_by_who_scrapes(
    tmp_path: Path,
) -> None:
    """Prometheus pods reach the web pods' port `metrics` already: a new monitoring pod's
    flow to a web pod that numbers `metrics` inside the range is odd by both ends together.
    The sources are told apart by their label (prometheus or not), not the web pods by
    their number for `metrics` (which split each source's finding in two)."""
    report, _, _ = _report(tmp_path)
    assert report.complete
    to_web = [
        group
        for finding in report.findings
        for group in (finding.destination, *finding.other_destinations)
        if group.labels.get("tier") == "web"
    ]
    assert to_web and not any("metrics/TCP" in group.named_ports for group in to_web)


def test_every_changed_flow_of_sampled_new_pods_is_in_exactly_one_finding(
    tmp_path: Path,
) -> None:
    """New pods numbering `mongodb` and `http` inside, at the ends of and outside the
    ranges, or not at all: each changed flow is in one finding, no unchanged one in any."""
    report, base_path, head_path = _report(tmp_path)
    assert report.complete
    base, head = load_manifests([str(base_path)]).cluster, load_manifests([str(head_path)]).cluster
    namespace = head.namespace("prod")
    assert namespace is not None

    def new_pod(tier: str, ports: dict[str, int]) -> PodEndpoint:
        pod = Pod(
            namespace="prod",
            name=None,
            labels={"tier": tier},
            ports=tuple(ContainerPort(name=name, port=port) for name, port in ports.items()),
        )
        return PodEndpoint(namespace=namespace, pod=pod)

    databases = [new_pod("db", {"mongodb": n}) for n in (27017, 27018, 27022, 27027, 27028)]
    webs = [new_pod("web", {"http": n}) for n in (8080, 8081, 8085, 8090, 9000)]
    webs += [new_pod("web", {"metrics": n, "http": 8085}) for n in (8081, 8090, 9100)]
    monitoring = head.namespace("monitoring")
    assert monitoring is not None
    prometheus = new_pod("other", {}).model_copy(
        update={
            "namespace": monitoring,
            "pod": Pod(namespace="monitoring", name=None, labels={"app": "prometheus"}),
        }
    )
    sources: list[Endpoint] = [
        new_pod("backend", {}),
        ExternalEndpoint(ip="203.0.113.9"),
        prometheus,
        prometheus.model_copy(update={"pod": prometheus.pod.model_copy(update={"labels": {}})}),
    ]
    destinations = [*databases, *webs, new_pod("db", {}), new_pod("web", {})]
    for source, destination, port in product(sources, destinations, PORTS):
        flow = Flow(source=source, destination=destination, protocol=Protocol.TCP, port=port)
        changed = evaluate(head, flow).allowed and not evaluate(base, flow).allowed
        covering = [f for f in report.findings if _covers(f, flow)]
        if isinstance(source, ExternalEndpoint):
            # The report names every cell of external addresses alike (IPv6 ones, which
            # the `ipBlock` does not hold, are another finding's): covered if changed.
            assert covering or not changed, flow
        else:
            assert len(covering) == changed, (flow, [finding_title(f) for f in covering])


def _covers(finding: DiffFinding, flow: Flow) -> bool:
    destination = flow.destination
    assert isinstance(destination, PodEndpoint)
    numbers = {p.name: p.port for p in destination.pod.ports}
    if finding.named_port is not None:
        on_ports = numbers.get(finding.named_port) == flow.port
    else:
        on_ports = any(r.start <= flow.port <= r.end for r in finding.ports) and all(
            numbers.get(name) != flow.port for name in finding.except_named_ports
        )
    return (
        on_ports
        and any(_in(flow.source, g) for g in (finding.source, *finding.other_sources))
        and any(
            _in(destination, g, finding.ports)
            for g in (finding.destination, *finding.other_destinations)
        )
    )


def _in(endpoint: Endpoint, group: EndpointGroup, ports: tuple[PortRange, ...] = ()) -> bool:
    """The endpoint is one of the group's (new pods: by namespace, the labels it pins and
    the named ports it asks for, as the findings of this cluster spell them)."""
    if isinstance(endpoint, ExternalEndpoint):
        return group.kind == "external"
    if group.kind != "new-pod" or group.namespace != endpoint.namespace.name:
        return False
    labels = endpoint.pod.labels
    if any(labels.get(k) != v for k, v in group.labels.items()) or any(
        labels.get(k, "(none)") in values for k, values in group.labels_not_in.items()
    ):
        return False
    numbers = {f"{p.name}/{p.protocol.value}": p.port for p in endpoint.pod.ports}
    for name, rule in group.named_ports.items():
        number = numbers.get(name)
        if rule.startswith("in "):
            low, high = (int(n) for n in rule[3:].split("-"))
            if number is None or not low <= number <= high:
                return False
            continue
        inside = number is not None and any(r.start <= number <= r.end for r in ports)
        if (
            (rule == "undefined or not the flow's port" and inside)
            or (rule in ("the flow's port", "one of the flow's ports") and not inside)
            or (rule.isdigit() and number != int(rule))
        ):
            return False
    return True
