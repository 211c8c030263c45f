"""Verdicts that policy objects netverify does not model may overturn are `unknown`, and only
those: a namespaced object decides flows with an end in its namespace, a cluster-wide one
any flow; mesh authorization (Istio, Linkerd) and egress firewalls only block, so they leave
a `forbid` that holds standing."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netverify.cli.app import app

PODS = """\
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: a, labels: {app: web}}
spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: b, labels: {app: db}}
spec: {containers: [{name: c, image: i, ports: [{containerPort: 5432}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: tool, namespace: c, labels: {app: tool}}
spec: {containers: [{name: c, image: i}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: b}
spec:
  podSelector: {}
  policyTypes: [Ingress]
  ingress:
    - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: a}}}]
      ports: [{port: 5432}]
"""
SPEC = """\
manifests: [cluster.yaml]
invariants:
  - name: tool-never-reaches-db
    pods: existing
    forbid: {from: {namespace: c}, to: {namespace: b}}
  - name: web-reaches-db
    require: {from: {namespace: a}, to: {namespace: b}, ports: ["5432/TCP"]}
  - name: web-reaches-db-somehow
    reachable: {from: {namespace: a}, to: {namespace: b}}
  - name: web-reaches-db-on-80
    require: {from: {namespace: a}, to: {namespace: b}, ports: ["80/TCP"]}
  - name: tool-reaches-web
    pods: existing
    forbid: {from: {namespace: c}, to: {namespace: a}}
"""
CILIUM = """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: x, namespace: NAMESPACE}
spec: {endpointSelector: {}}
"""
ISTIO = """\
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: x, namespace: NAMESPACE}
spec: {}
"""
CALICO_GLOBAL = """\
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: x}
spec: {selector: all()}
"""


def _statuses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: str) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cluster.yaml").write_text(PODS + "---\n" + extra, encoding="utf-8")
    (tmp_path / "spec.yaml").write_text(SPEC, encoding="utf-8")
    result = CliRunner().invoke(app, ["prove", "spec.yaml", "--format", "json"])
    assert result.exit_code in (1, 3), result.output
    return {r["name"]: r["status"] for r in json.loads(result.stdout)["results"]}


WITHOUT = {
    "tool-never-reaches-db": "holds",
    "web-reaches-db": "holds",
    "web-reaches-db-somehow": "holds",
    "web-reaches-db-on-80": "violated",
    "tool-reaches-web": "violated",
}


def test_the_verdicts_without_unmodelled_objects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _statuses(tmp_path, monkeypatch, "") == WITHOUT


def test_a_network_plugin_policy_in_the_destinations_namespace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It may allow and block anything into b; a -> c flows stand (tool reaches web)."""
    statuses = _statuses(tmp_path, monkeypatch, CILIUM.replace("NAMESPACE", "b"))
    assert statuses == {**dict.fromkeys(WITHOUT, "unknown"), "tool-reaches-web": "violated"}


def test_a_network_plugin_policy_elsewhere_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    statuses = _statuses(tmp_path, monkeypatch, CILIUM.replace("NAMESPACE", "z"))
    assert statuses == WITHOUT


def test_mesh_authorization_only_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An Istio policy in b cannot open what NetworkPolicy blocks: the forbid that holds and
    the require whose counterexample is blocked stand; what rests on allowed flows into b
    does not."""
    statuses = _statuses(tmp_path, monkeypatch, ISTIO.replace("NAMESPACE", "b"))
    assert statuses == {
        **WITHOUT,
        "web-reaches-db": "unknown",
        "web-reaches-db-somehow": "unknown",
    }


def test_mesh_authorization_in_the_root_namespace_applies_to_the_mesh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    statuses = _statuses(tmp_path, monkeypatch, ISTIO.replace("NAMESPACE", "istio-system"))
    assert statuses == {
        **WITHOUT,
        "web-reaches-db": "unknown",
        "web-reaches-db-somehow": "unknown",
        "tool-reaches-web": "unknown",
    }


def test_a_cluster_wide_policy_may_decide_every_flow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    statuses = _statuses(tmp_path, monkeypatch, CALICO_GLOBAL)
    assert statuses == dict.fromkeys(WITHOUT, "unknown")


@pytest.mark.parametrize(
    ("extra", "flow", "code", "note"),
    [
        (CILIUM.replace("NAMESPACE", "b"), ("a/web", "b/db", "5432/TCP"), 3, "may block"),
        (CILIUM.replace("NAMESPACE", "b"), ("c/tool", "b/db", "5432/TCP"), 3, "may allow"),
        (CILIUM.replace("NAMESPACE", "b"), ("c/tool", "a/web", "80/TCP"), 0, None),
        (ISTIO.replace("NAMESPACE", "b"), ("c/tool", "b/db", "5432/TCP"), 1, None),
        (CALICO_GLOBAL, ("c/tool", "a/web", "80/TCP"), 3, "may block"),
    ],
)
def test_explain_says_unknown_where_an_unmodelled_object_may_decide_the_flow(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    extra: str,
    flow: tuple[str, str, str],
    code: int,
    note: str | None,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cluster.yaml").write_text(PODS + "---\n" + extra, encoding="utf-8")
    source, destination, port = flow
    args = ["explain", "cluster.yaml", "--from", source, "--to", destination, "--port", port]
    text = CliRunner().invoke(app, args)
    assert text.exit_code == code, text.output
    answer = json.loads(CliRunner().invoke(app, [*args, "--format", "json"]).stdout)
    if note is None:
        assert "unknown:" not in text.stdout
        assert "may_be_decided_by" not in answer
        return
    assert f"is not modelled by netverify and {note} this flow" in text.stdout
    (deciding,) = answer["may_be_decided_by"]
    assert deciding["name"] == "x"


@pytest.mark.parametrize(
    ("base", "head", "said"),
    [
        ("", CILIUM.replace("NAMESPACE", "b"), "added"),
        (CILIUM.replace("NAMESPACE", "b"), "", "deleted"),
        (
            CILIUM.replace("NAMESPACE", "b"),
            CILIUM.replace("NAMESPACE", "b").replace("{}}", "{matchLabels: {app: db}}}"),
            "edited",
        ),
        (CILIUM.replace("NAMESPACE", "b"), CILIUM.replace("NAMESPACE", "b"), None),
    ],
)
def test_a_diff_is_incomplete_where_unmodelled_objects_differ(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, base: str, head: str, said: str | None
) -> None:
    """No NetworkPolicy changed, so "no connectivity change" is all the diff could say, and
    a CiliumNetworkPolicy added, deleted or edited may have changed it."""
    monkeypatch.chdir(tmp_path)
    for revision, extra in (("base", base), ("head", head)):
        (tmp_path / revision).mkdir()
        (tmp_path / revision / "cluster.yaml").write_text(PODS + "---\n" + extra)
    result = CliRunner().invoke(app, ["diff", "base", "head", "--format", "json"])
    report = json.loads(result.stdout)
    assert report["findings"] == []
    if said is None:
        assert result.exit_code == 0, result.output
        assert report["summary"]["complete"]
        return
    assert result.exit_code == 3, result.output
    assert not report["summary"]["complete"]
    assert report["summary"]["incomplete_reason"] == (
        "policy objects netverify does not model differ between the revisions "
        f"(CiliumNetworkPolicy b/x (cilium.io/v2): {said}): what they change is not in this diff"
    )


def test_matrix_says_which_cells_unmodelled_objects_may_decide(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cluster.yaml").write_text(
        PODS + "---\n" + CILIUM.replace("NAMESPACE", "b") + "---\n" + CALICO_GLOBAL
    )
    text = CliRunner().invoke(app, ["matrix", "cluster.yaml"]).stdout
    assert text.endswith(
        "note: GlobalNetworkPolicy x (projectcalico.org/v3) is not modelled by netverify and "
        "may decide every cell otherwise than shown (NetworkPolicy's verdict)\n"
        "note: CiliumNetworkPolicy b/x (cilium.io/v2) is not modelled by netverify and may "
        "decide cells with an end in namespace b otherwise than shown (NetworkPolicy's "
        "verdict)\n"
    )
    answer = json.loads(CliRunner().invoke(app, ["matrix", "cluster.yaml", "-f", "json"]).stdout)
    assert len(answer["undecided"]) == 2
    (tmp_path / "cluster.yaml").write_text(PODS)
    assert "note:" not in CliRunner().invoke(app, ["matrix", "cluster.yaml"]).stdout
    answer = json.loads(CliRunner().invoke(app, ["matrix", "cluster.yaml", "-f", "json"]).stdout)
    assert "undecided" not in answer
