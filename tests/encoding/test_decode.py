"""`decode_flow` turns a model of the symbolic flow into the plain `Flow` it stands for.

Each test pins the flow's variables with assertions (together with the encoding's domain, so
that the model is one the engine could get) and checks the decoded flow field by field.
"""

from ipaddress import ip_address

import pytest
import z3

from netverify.encoding.cluster import ClusterEncoding
from netverify.encoding.decode import decode_flow
from netverify.encoding.terms import SymbolicEndpoint, protocol_code
from netverify.encoding.universe import ip_number
from netverify.model import (
    NAMESPACE_NAME_LABEL,
    ContainerPort,
    ExternalEndpoint,
    Flow,
    Namespace,
    Pod,
    PodEndpoint,
    PolicyPeer,
    PolicyPort,
    Protocol,
    Settings,
)
from tests.semantics.helpers import (
    cluster,
    namespace,
    pod,
    pod_endpoint,
    pods_peer,
    policy,
    rule,
    selector,
)

DB = pod(
    "prod",
    "db",
    {"app": "db"},
    ip="10.0.0.5",
    ports=[ContainerPort(name="postgres", port=5432)],
)
WEB = pod("prod", "web", {"app": "web"})
API = [pod("dev", f"api-{index}", {"app": "api"}) for index in (1, 2)]
CLUSTER = cluster(
    pods=[DB, WEB, *API],
    policies=[
        policy(
            "prod",
            "db-from-web",
            selector(app="db"),
            ingress=[
                rule(
                    pods_peer(selector(app="web")),
                    ports=[PolicyPort(protocol=Protocol.TCP, named_port="postgres")],
                )
            ],
        ),
        policy(
            "dev",
            "api-to-data",
            selector(app="api"),
            egress=[rule(PolicyPeer(namespace_selector=selector(team="data")))],
        ),
    ],
    namespaces=[namespace("prod", {"team": "data"}), namespace("dev")],
)
"""Policies mention the pod labels app=db, app=web and app=api, the namespace label
team=data and the named port postgres."""


@pytest.fixture
def built() -> ClusterEncoding:
    """The encoding of `CLUSTER` (each in a fresh Z3 context)."""
    return ClusterEncoding(CLUSTER, Settings())


def decoded(built: ClusterEncoding, *facts: z3.BoolRef) -> Flow:
    """The flow of a model of the encoding's domain and `facts`."""
    solver = z3.Solver()
    solver.add(built.domain, *facts)
    assert solver.check() == z3.sat
    return decode_flow(built, solver.model())


def is_existing(built: ClusterEncoding, end: SymbolicEndpoint, member: Pod) -> list[z3.BoolRef]:
    (index,) = [c.index for c in built.classes if member in c.pods]
    return [end.is_pod, end.pod_class == index]


def could_exist(
    built: ClusterEncoding, end: SymbolicEndpoint, namespace: str | None, app: str | None
) -> list[z3.BoolRef]:
    """A pod that could exist, in the namespace named `namespace` with the label app=`app`
    (None: a value nobody mentions)."""
    names, labels = built.universe.namespace_labels, built.universe.pod_labels
    return [
        end.is_pod,
        end.pod_class == -1,
        end.namespace_labels[NAMESPACE_NAME_LABEL]
        == (
            names.other(NAMESPACE_NAME_LABEL)
            if namespace is None
            else names.code(NAMESPACE_NAME_LABEL, namespace)
        ),
        end.pod_labels["app"] == (labels.other("app") if app is None else labels.code("app", app)),
    ]


def port_is(built: ClusterEncoding, protocol: Protocol, port: int) -> list[z3.BoolRef]:
    flow = built.flow
    return [flow.protocol == protocol_code(protocol), flow.port == port]


def test_an_existing_pod_to_an_external_address(built: ClusterEncoding) -> None:
    flow = built.flow
    address = ip_address("203.0.113.9")
    got = decoded(
        built,
        *is_existing(built, flow.source, DB),
        z3.Not(flow.destination.is_pod),
        flow.destination.ip == ip_number(address),
        *port_is(built, Protocol.UDP, 53),
    )
    assert got == Flow(
        source=pod_endpoint(CLUSTER, DB),
        destination=ExternalEndpoint(ip=address),
        protocol=Protocol.UDP,
        port=53,
    )


def test_two_ends_in_one_class_are_two_pods(built: ClusterEncoding) -> None:
    flow = built.flow
    got = decoded(
        built,
        *is_existing(built, flow.source, API[0]),
        *is_existing(built, flow.destination, API[0]),
        *port_is(built, Protocol.TCP, 8080),
    )
    assert got.source == pod_endpoint(CLUSTER, API[0])
    assert got.destination == pod_endpoint(CLUSTER, API[1])


def test_a_pod_that_could_exist_in_an_existing_namespace(built: ClusterEncoding) -> None:
    flow = built.flow
    source = flow.source
    got = decoded(
        built,
        *could_exist(built, source, "dev", "web"),
        source.named_ports[("postgres", Protocol.TCP)].defined,
        source.named_ports[("postgres", Protocol.TCP)].number == 6432,
        z3.Not(source.named_ports[("postgres", Protocol.UDP)].defined),
        z3.Not(source.named_ports[("postgres", Protocol.SCTP)].defined),
        *is_existing(built, flow.destination, WEB),
        *port_is(built, Protocol.TCP, 443),
    )
    dev = CLUSTER.namespace("dev")
    assert dev is not None
    assert got == Flow(
        source=PodEndpoint(
            namespace=dev,
            pod=Pod(
                namespace="dev",
                name=None,
                labels={"app": "web"},
                ports=(ContainerPort(name="postgres", port=6432, protocol=Protocol.TCP),),
            ),
        ),
        destination=pod_endpoint(CLUSTER, WEB),
        protocol=Protocol.TCP,
        port=443,
    )


def test_a_pod_that_could_exist_in_a_namespace_that_does_not(built: ClusterEncoding) -> None:
    """A label value nobody mentions decodes to a fresh one, the namespace name too."""
    flow = built.flow
    source = flow.source
    got = decoded(
        built,
        *could_exist(built, source, None, None),
        source.namespace_labels["team"] == built.universe.namespace_labels.code("team", "data"),
        *(z3.Not(named.defined) for named in source.named_ports.values()),
        *is_existing(built, flow.destination, DB),
        *port_is(built, Protocol.TCP, 5432),
    )
    assert got.source == PodEndpoint(
        namespace=Namespace(
            name="other",
            labels={NAMESPACE_NAME_LABEL: "other", "team": "data"},
            defined=False,
            exists=False,
        ),
        pod=Pod(namespace="other", name=None, labels={"app": "other"}),
    )
    assert got.destination == pod_endpoint(CLUSTER, DB)
