"""Flows written on the command line: named ports of any protocol, ICMP refused in words."""

from pathlib import Path

import pytest

from netverify.loading import load_manifests
from netverify.loading.flows import parse_flow
from netverify.model import Cluster, InputError, Protocol

PODS = """\
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: default}
---
apiVersion: v1
kind: Pod
metadata: {name: coredns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  containers:
  - name: coredns
    ports:
    - {name: dns, containerPort: 53, protocol: UDP}
    - {name: dns-tcp, containerPort: 53, protocol: TCP}
  - name: odd
    ports:
    - {name: both, containerPort: 5353, protocol: UDP}
    - {name: both, containerPort: 5354, protocol: TCP}
"""


@pytest.fixture
def cluster(tmp_path: Path) -> Cluster:
    (tmp_path / "pods.yaml").write_text(PODS)
    return load_manifests([str(tmp_path / "pods.yaml")]).cluster


def flow_port(cluster: Cluster, port: str) -> tuple[Protocol, int]:
    flow = parse_flow(cluster, "default/client", "kube-system/coredns", port)
    return flow.protocol, flow.port


def error(cluster: Cluster, port: str) -> str:
    with pytest.raises(InputError) as caught:
        parse_flow(cluster, "default/client", "kube-system/coredns", port)
    [diagnostic] = caught.value.diagnostics
    return diagnostic.message


def test_a_bare_port_name_means_whatever_its_protocol(cluster: Cluster) -> None:
    assert flow_port(cluster, "dns") == (Protocol.UDP, 53)
    assert flow_port(cluster, "dns-tcp") == (Protocol.TCP, 53)
    assert flow_port(cluster, "dns/UDP") == (Protocol.UDP, 53)
    assert flow_port(cluster, "53") == (Protocol.TCP, 53)
    assert error(cluster, "dns/TCP") == "--port dns/TCP: the destination has no TCP port named dns"
    assert error(cluster, "metrics") == "--port metrics: the destination has no port named metrics"


def test_a_name_with_different_numbers_per_protocol_is_ambiguous(cluster: Cluster) -> None:
    assert error(cluster, "both") == (
        "--port both: the destination's port both is 5354/TCP, 5353/UDP; write both/PROTOCOL"
    )
    assert flow_port(cluster, "both/UDP") == (Protocol.UDP, 5353)


@pytest.mark.parametrize("port", ["ICMP", "icmp", "0/ICMP"])
def test_icmp_is_refused_as_outside_networkpolicy(cluster: Cluster, port: str) -> None:
    assert error(cluster, port) == (
        f"--port {port}: NetworkPolicy has no ICMP: its ports are TCP, UDP or SCTP only "
        "(what a plugin does with ICMP is up to the plugin)"
    )
