"""The text format says what a counterexample rests on: the labels of a namespace that could
be created, and that traffic between two replicas of a workload assumes it runs two."""

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netverify.cli.app import app
from netverify.loading import load_manifests
from netverify.model import Pod, PortRange, Protocol
from netverify.report.describe import describe_protocols_ports

NAMESPACES = """\
apiVersion: v1
kind: Namespace
metadata: {name: prod, labels: {env: prod}}
"""
DB = """\
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: prod, labels: {app: db}}
spec: {containers: [{name: c, image: i}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-dev-teams, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
    - from: [{namespaceSelector: {matchLabels: {team: dev}}}]
"""
NEW_NAMESPACE_SPEC = """\
manifests: [cluster]
invariants:
  - name: nothing-new-reaches-db
    namespaces: any
    forbid:
      from: {namespace: {matchExpressions: [{key: env, operator: NotIn, values: [prod]}]}}
      to: {pod: prod/db}
"""
WEB = """\
apiVersion: {api}
kind: {kind}
metadata: {{name: web, namespace: prod}}
spec:
{replicas}  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec: {{containers: [{{name: c, image: i}}]}}
"""
REPLICAS_SPEC = """\
manifests: [cluster]
invariants:
  - name: web-replicas-are-apart
    forbid:
      from: {pod: prod/web}
      to: {pod: prod/web}
"""
NOTE = "(between two replicas of {kind} prod/web: assumes it runs more than one)"


def _prove(folder: Path, manifests: dict[str, str], spec: str) -> str:
    (folder / "cluster").mkdir()
    for name, text in manifests.items():
        (folder / "cluster" / name).write_text(text, encoding="utf-8")
    (folder / "spec.yaml").write_text(spec, encoding="utf-8")
    result = CliRunner().invoke(app, ["prove", str(folder / "spec.yaml")])
    assert result.exit_code == 1, result.output
    return result.stdout


def _web(kind: str, replicas: int | None) -> str:
    api = "apps/v1"
    written = "" if replicas is None else f"  replicas: {replicas}\n"
    return WEB.format(api=api, kind=kind, replicas=written)


def test_a_new_namespace_shows_the_labels_that_let_it_in(tmp_path: Path) -> None:
    text = _prove(tmp_path, {"ns.yaml": NAMESPACES, "db.yaml": DB}, NEW_NAMESPACE_SPEC)
    (line,) = [line for line in text.splitlines() if "an allowed flow:" in line]
    # env (the spec looks at it) and team (the policy does), not the name label again
    assert re.search(r"<new namespace (\S+)> \{env=(?!prod)[^,}]+,team=dev\}/<new pod> ", line)
    assert "kubernetes.io/metadata.name" not in line


UNDEFINED_NAMESPACE_SPEC = """\
manifests: [cluster]
invariants:
  - name: new-pods-never-reach-db
    pods: any
    forbid:
      from: {namespace: prod, pod: {role: x}}
      to: {pod: prod/db}
"""


def test_a_new_pod_of_a_namespace_only_used_is_not_in_a_new_namespace(tmp_path: Path) -> None:
    """No Namespace object for prod (kube manifests without one are common, e.g. argo-cd's
    install.yaml): prod exists all the same, so its new pods are not in a new namespace."""
    text = _prove(tmp_path, {"db.yaml": DB.replace("{team: dev}", "{}")}, UNDEFINED_NAMESPACE_SPEC)
    (line,) = [line for line in text.splitlines() if "an allowed flow:" in line]
    assert "prod/<new pod> (role=x) -> prod/db" in line, line
    assert "<new namespace" not in line


def test_a_finding_names_a_new_namespace_as_one(tmp_path: Path) -> None:
    """prove --all groups: the stand-in name of a namespace that could be created is said to
    be one, in text and in JSON (`new_namespace`)."""
    _prove(tmp_path, {"ns.yaml": NAMESPACES, "db.yaml": DB}, NEW_NAMESPACE_SPEC)
    spec = str(tmp_path / "spec.yaml")
    text = CliRunner().invoke(app, ["prove", "--all", spec]).stdout
    assert re.search(r"\[1\] <new namespace (\S+)>/<new pod> .*-> prod/", text), text
    assert re.search(r"also from <new namespace (\S+)>/<new pod> \(app=\w+\); ", text), text
    result = CliRunner().invoke(app, ["prove", "--all", spec, "--format", "json"])
    (finding,) = json.loads(result.stdout)["results"][0]["findings"]
    assert finding["from"]["kind"] == "new-pod" and finding["from"]["new_namespace"] is True
    assert "new_namespace" not in finding["to"]


@pytest.mark.parametrize(
    ("kind", "replicas", "noted"),
    [
        ("Deployment", None, True),
        ("Deployment", 1, True),
        ("Deployment", 3, False),
        ("StatefulSet", 2, False),
        ("DaemonSet", None, True),
    ],
)
def test_traffic_between_replicas_says_it_needs_two(
    tmp_path: Path, kind: str, replicas: int | None, noted: bool
) -> None:
    text = _prove(
        tmp_path, {"ns.yaml": NAMESPACES, "web.yaml": _web(kind, replicas)}, REPLICAS_SPEC
    )
    assert "an allowed flow: prod/web (app=web) -> prod/web (app=web)" in text
    assert (NOTE.format(kind=kind) in text) is noted


def test_replicas_are_read_from_scaled_workloads(tmp_path: Path) -> None:
    for name, text in {
        "one.yaml": _web("Deployment", None),
        "three.yaml": _web("StatefulSet", 3).replace("name: web", "name: db"),
        "daemons.yaml": _web("DaemonSet", None).replace("name: web", "name: agent"),
    }.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    pods: dict[str | None, Pod] = {
        pod.name: pod for pod in load_manifests([str(tmp_path)]).cluster.pods
    }
    assert {name: pod.replicas for name, pod in pods.items()} == {
        "web": 1,
        "db": 3,
        "agent": None,
    }


DENY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: prod}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
"""


def test_a_diff_witness_between_replicas_says_it_needs_two(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    opened = DENY + "  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}]}]\n"
    for revision, policy in (("base", DENY), ("head", opened)):
        (tmp_path / revision).mkdir()
        manifests = {"ns.yaml": NAMESPACES, "web.yaml": _web("Deployment", 1), "np.yaml": policy}
        for name, text in manifests.items():
            (tmp_path / revision / name).write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["diff", "base", "head"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    witness = lines.index("  witness: prod/web (app=web) -> prod/web (app=web) TCP/1")
    assert lines[witness + 1] == f"    {NOTE.format(kind='Deployment')}"


def test_further_groups_of_new_pods_say_what_tells_them_apart(tmp_path: Path) -> None:
    """prove --all: the new pods of a new namespace are three groups (no `app` label, the
    value a policy names, any other): each is described, not only counted, and the one
    without the label says so (JSON `labels_absent`)."""
    _prove(tmp_path, {"ns.yaml": NAMESPACES, "db.yaml": DB}, NEW_NAMESPACE_SPEC)
    spec = str(tmp_path / "spec.yaml")
    text = CliRunner().invoke(app, ["prove", "--all", spec]).stdout
    (line,) = [line for line in text.splitlines() if "also from" in line]
    assert line.count("<new namespace other>/<new pod> (") == 2, line
    result = CliRunner().invoke(app, ["prove", "--all", spec, "--format", "json"])
    (finding,) = json.loads(result.stdout)["results"][0]["findings"]
    groups = [finding["from"], *finding["also_from"]]
    assert [g.get("labels_absent") for g in groups].count(["app"]) == 1
    assert "(no app)" in text


@pytest.mark.parametrize(
    ("protocols", "said"),
    [
        ((Protocol.UDP, Protocol.TCP), "TCP and UDP 53"),
        ((Protocol.SCTP, Protocol.TCP), "TCP and SCTP 53"),
        ((Protocol.UDP, Protocol.SCTP, Protocol.TCP), "every protocol, 53"),
        ((Protocol.UDP,), "UDP/53"),
    ],
)
def test_protocols_are_said_in_one_order_whichever_the_witness_has(
    protocols: tuple[Protocol, ...], said: str
) -> None:
    """Two findings of one diff read "TCP and UDP 53" and "UDP and TCP 53" when their
    witnesses had other protocols (Argo CD #11322)."""
    assert describe_protocols_ports(protocols, (PortRange(start=53, end=53),)) == said
