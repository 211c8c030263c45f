"""`ClusterEncoding.declared_port`, written as SMT-LIB text, is the very term z3py builds (the
same term, not only an equivalent one: the witnesses readable_flow picks depend on it)."""

import z3

from netverify.encoding.cluster import ClusterEncoding
from netverify.encoding.terms import protocol_code
from netverify.model import Cluster, ContainerPort, Namespace, Pod, Protocol, Settings


def _cluster(*pods: Pod) -> Cluster:
    return Cluster(namespaces=(Namespace(name="prod"),), pods=pods)


def _z3py(encoding: ClusterEncoding) -> z3.BoolRef:
    flow = encoding.flow
    options = []
    for pod_class in encoding.classes:
        declared = sorted({(p.protocol, p.port) for pod in pod_class.pods for p in pod.ports})
        if declared:
            ports = [
                z3.And(flow.protocol == protocol_code(protocol), flow.port == number)
                for protocol, number in declared
            ]
            options.append(z3.And(flow.destination.pod_class == pod_class.index, z3.Or(ports)))
    return z3.Or(options)


def test_the_term_is_the_one_z3py_builds() -> None:
    dns = (
        ContainerPort(name="dns", port=53, protocol=Protocol.UDP),
        ContainerPort(name="dns-tcp", port=53, protocol=Protocol.TCP),
    )
    encoding = ClusterEncoding(
        _cluster(
            Pod(namespace="prod", name="dns", labels={"app": "dns"}, ports=dns),
            Pod(namespace="prod", name="idle", labels={"app": "idle"}),
            Pod(
                namespace="prod",
                name="web",
                labels={"app": "web"},
                ports=(ContainerPort(name="http", port=8080, protocol=Protocol.TCP),),
            ),
        ),
        Settings(),
    )
    declared = encoding.declared_port
    assert declared is not None
    assert declared.eq(_z3py(encoding)), declared


def test_no_declared_port_no_term() -> None:
    encoding = ClusterEncoding(_cluster(Pod(namespace="prod", name="idle")), Settings())
    assert encoding.declared_port is None
