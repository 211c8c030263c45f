"""NVL014 service-unreachable beyond its fires/quiet fixtures: the witness in the message,
a blocked client egress, EndpointSlice backends, and hostNetwork pods not counted."""

import textwrap
from pathlib import Path

from netverify.encoding.solver import SolverLimits
from netverify.engine.lint import lint
from netverify.loading import load_manifests
from netverify.model import Settings

FIXTURE = Path(__file__).parent / "fixtures" / "service-unreachable"
SLICES = Path(__file__).parents[1] / "services" / "slices"


def messages(path: Path) -> list[str]:
    report = lint(load_manifests([str(path)]), Settings(), SolverLimits())
    return [found.message for found in report.findings if found.check == "NVL014"]


def write(tmp_path: Path, extra: str) -> Path:
    base = (FIXTURE / "quiet" / "cluster.yaml").read_text()
    (tmp_path / "cluster.yaml").write_text(base + "---\n" + textwrap.dedent(extra))
    return tmp_path


def test_the_message_names_the_backend_port_and_a_witness_flow() -> None:
    assert messages(FIXTURE / "fires") == [
        "no existing pod can reach backend default/db-0 of this Service through port "
        "5432/TCP (target port 5432), e.g. default/web -> default/db-0 TCP/5432: ingress "
        "blocked: isolated by default/db-from-web and no rule admits it"
    ]


def test_a_client_egress_that_blocks_counts(tmp_path: Path) -> None:
    found = messages(
        write(
            tmp_path,
            """\
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: web-no-egress, namespace: default}
            spec: {podSelector: {matchLabels: {app: web}}, policyTypes: [Egress]}
            """,
        )
    )
    assert len(found) == 1 and found[0].endswith(
        "e.g. default/web -> default/db-0 TCP/5432: egress blocked: isolated by "
        "default/web-no-egress and no rule admits it"
    )


def test_host_network_pods_are_no_clients(tmp_path: Path) -> None:
    fires = (FIXTURE / "fires" / "cluster.yaml").read_text()
    (tmp_path / "cluster.yaml").write_text(
        fires
        + textwrap.dedent(
            """\
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: node-agent, namespace: default, labels: {app: agent}}
            spec: {hostNetwork: true, containers: [{name: agent}]}
            """
        )
    )
    assert len(messages(tmp_path)) == 1


def test_endpoint_slice_backends_are_checked_on_the_slice_port() -> None:
    # Only test may reach the databases on 3306 (the slice's port): quiet; db-0 and db-1
    # cannot reach each other, but test reaches both.
    assert messages(SLICES) == []


def test_endpoint_slice_backends_fire_when_the_slice_port_is_not_admitted(tmp_path: Path) -> None:
    text = (
        (SLICES / "cluster.yaml")
        .read_text()
        .replace("ports: [{port: 3306}]", "ports: [{port: 5432}]")
    )
    (tmp_path / "cluster.yaml").write_text(text)
    found = messages(tmp_path)
    assert [message.split(" of ")[0] for message in found] == [
        "no existing pod can reach backend default/db-0",
        "no existing pod can reach backend default/db-1",
    ]
    assert "through port sql 5432/TCP" not in found[0] and "(target port 3306)" in found[0]
