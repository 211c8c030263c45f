"""A live cluster as input, against the replaying API server of `apiserver.py`: what is read
(every page, admin kinds the server does not serve skipped), the commands that take
--cluster/--context, a spec naming a cluster, snapshots, and each refusal in words."""

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner, Result

from netverify.cli.app import app
from netverify.loading import load_manifests
from netverify.loading.live import LISTED_KINDS, ClusterSource, read_cluster
from netverify.model import InputError, ObjectRef
from tests.live.apiserver import FakeCluster

EXIT_HOLDS, EXIT_VIOLATED, EXIT_INPUT_ERROR = 0, 1, 2

SPEC = """\
manifests:
  - cluster: {cluster}
    kubeconfig: kubeconfig
invariants:
  - name: web-reaches-db
    reachable:
      from: {{pod: prod/web}}
      to: {{pod: prod/db}}
      ports: ["8080/TCP"]
  - name: api-never-reaches-db
    forbid:
      from: {{namespace: {{kubernetes.io/metadata.name: prod}}, pod: {{app: api}}}}
      to: {{pod: prod/db}}
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def source(api: FakeCluster, context: str | None = None) -> ClusterSource:
    return ClusterSource(context=context, kubeconfig=str(api.kubeconfig))


def test_every_page_is_read_and_only_list_requests_are_sent(api: FakeCluster) -> None:
    read = read_cluster(source(api))
    assert read.context == "test"
    pods = {ref: items for ref, items in read.objects.items() if ref.kind == "Pod"}
    names = [item["metadata"]["name"] for items in pods.values() for item in items]
    assert names == ["web", "db"]  # the finished pod is left out; page 2 was read
    assert ("/api/v1/pods", "continue=page-2&limit=500") in api.requests
    assert all("limit=500" in query for _, query in api.requests)


def test_list_items_become_manifests(api: FakeCluster) -> None:
    read = read_cluster(source(api))
    by_kind = {listed.kind: items for listed, items in read.objects.items()}
    policy = by_kind["NetworkPolicy"][0]
    assert (policy["apiVersion"], policy["kind"]) == ("networking.k8s.io/v1", "NetworkPolicy")
    assert "managedFields" not in policy["metadata"]
    assert by_kind["ReplicaSet"] == []  # the Deployment's ReplicaSet repeats its template
    assert [listed.kind for listed in read.not_served] == ["ClusterNetworkPolicy"]


def test_objects_are_located_by_their_cluster_path(api: FakeCluster) -> None:
    loaded = load_manifests([], clusters=[source(api)])
    span = loaded.sources.of_object(
        ObjectRef(kind="NetworkPolicy", namespace="prod", name="db-from-web")
    )
    assert str(span) == "cluster:test/NetworkPolicy/prod/db-from-web"
    assert [pod.name for pod in loaded.cluster.pods] == ["api", "db", "web"]


def test_services_and_their_endpoint_slices_are_read(api: FakeCluster) -> None:
    loaded = load_manifests([], clusters=[source(api)])
    cluster = loaded.cluster
    backends = {
        service.name: [pod.name for pod in service.backends(cluster.pods)]
        for service in cluster.services
    }
    assert backends == {"db": ["db"], "legacy": ["web"]}
    assert ("/api/v1/services", "limit=500") in api.requests
    assert any("192.0.2.7 of Service prod/legacy" in str(w) for w in loaded.warnings)


def test_explain_through_a_service_of_the_cluster(api: FakeCluster) -> None:
    result = run(
        "explain", "--cluster", "--kubeconfig", str(api.kubeconfig), "--from", "prod/web",
        "--to", "10.96.0.20", "--port", "80",
    )  # fmt: skip
    assert result.exit_code == EXIT_HOLDS, result.stderr
    assert "prod/Service/db 80/TCP -> 1 backend on port 8080" in result.stdout


def test_validate_reads_the_current_context(api: FakeCluster) -> None:
    result = run("validate", "--cluster", "--kubeconfig", str(api.kubeconfig))
    assert result.exit_code == EXIT_HOLDS, result.stderr
    assert "pods: 2, workloads: 1" in result.stdout
    assert "isolated for ingress: 1 (prod/db)" in result.stdout


def test_explain_reads_a_named_context(api: FakeCluster) -> None:
    common = ("--context", "test", "--kubeconfig", str(api.kubeconfig), "--port", "8080")
    allowed = run("explain", *common, "--from", "prod/web", "--to", "prod/db")
    assert allowed.exit_code == EXIT_HOLDS, allowed.stderr
    location = "(cluster:test/NetworkPolicy/prod/db-from-web)"
    assert f"allowed by prod/db-from-web ingress[0] from[0] {location}" in allowed.stdout
    blocked = run("explain", *common, "--from", "prod/db", "--to", "prod/web")
    assert blocked.exit_code == EXIT_HOLDS  # prod/web is not isolated
    api_pod = run("explain", *common, "--from", "10.0.0.1", "--to", "prod/db")
    assert api_pod.exit_code == EXIT_VIOLATED


def test_manifest_paths_and_a_cluster_load_together(api: FakeCluster, tmp_path: Path) -> None:
    extra = tmp_path / "extra.yaml"
    extra.write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: staging}\n")
    result = run("validate", str(extra), "--cluster", "--kubeconfig", str(api.kubeconfig))
    assert result.exit_code == EXIT_HOLDS, result.stderr
    assert "namespaces: 3" in result.stdout


@pytest.mark.parametrize("cluster", ["test", "true"])
def test_a_spec_names_a_cluster(api: FakeCluster, cluster: str) -> None:
    spec = api.kubeconfig.parent / "spec.yaml"
    spec.write_text(SPEC.format(cluster=cluster))
    result = run("prove", str(spec))
    assert result.exit_code == EXIT_HOLDS, result.stdout + result.stderr
    assert "2 invariants: 2 hold" in result.stdout


def test_snapshot_loads_as_the_cluster_it_was_read_from(api: FakeCluster, tmp_path: Path) -> None:
    folder = tmp_path / "snapshot"
    result = run(
        "snapshot", "--context", "test", "--kubeconfig", str(api.kubeconfig), "-o", str(folder)
    )
    assert result.exit_code == EXIT_HOLDS, result.stderr
    assert "cluster:test: 10 objects written to 15 files" in result.stdout
    assert (
        "does not serve ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2)" in result.stderr
    )
    assert (
        (folder / "networkpolicies.yaml")
        .read_text()
        .startswith("# NetworkPolicy (networking.k8s.io/v1) read from cluster:test\napiVersion:")
    )
    assert (folder / "services.yaml").read_text().startswith("# Service (v1) read from")
    assert "legacy-x7k2p" in (folder / "endpointslices.yaml").read_text()
    live = load_manifests([], clusters=[source(api)])
    assert load_manifests([str(folder)]).cluster == live.cluster


def test_snapshot_needs_a_cluster(tmp_path: Path) -> None:
    result = run("snapshot", "-o", str(tmp_path))
    assert result.exit_code == EXIT_INPUT_ERROR
    assert "give --cluster or --context NAME" in result.stderr


def test_a_command_needs_paths_or_a_cluster() -> None:
    result = run("validate")
    assert result.exit_code == EXIT_INPUT_ERROR
    assert "give manifest paths or --cluster" in result.stderr


@pytest.mark.parametrize(
    ("context", "message"),
    [
        (
            "stranger",
            "cluster:stranger: credentials rejected (401 Unauthorized) listing namespaces",
        ),
        (
            "limited",
            "cluster:limited: forbidden: cannot list networkpolicies in the networking.k8s.io "
            'API group: grant `list` on resource "networkpolicies" (apiGroups: '
            '["networking.k8s.io"])',
        ),
        ("gone", "cluster:gone: cannot reach the API server at http://127.0.0.1:"),
        ("nope", "has no context named 'nope' (it has: gone, limited, stranger, test)"),
    ],
)
def test_refusals_say_what_to_do(api: FakeCluster, context: str, message: str) -> None:
    result = run("validate", "--context", context, "--kubeconfig", str(api.kubeconfig))
    assert result.exit_code == EXIT_INPUT_ERROR
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_kubeconfig_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    result = run("lint", "--cluster", "--kubeconfig", str(missing))
    assert result.exit_code == EXIT_INPUT_ERROR
    assert (
        f"no kubeconfig: {missing} does not exist (pass --kubeconfig PATH or set KUBECONFIG)"
        in (result.stderr)
    )


def test_a_kubeconfig_without_current_context(api: FakeCluster) -> None:
    text = api.kubeconfig.read_text().replace(', "current-context": "test"', "")
    api.kubeconfig.write_text(text)
    with pytest.raises(InputError, match="has no current context: pass --context NAME"):
        read_cluster(source(api))
    assert read_cluster(source(api, "test")).context == "test"


def test_core_kinds_the_server_does_not_serve_are_errors(
    api: FakeCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.live import apiserver

    pages = {path: page for path, page in apiserver.PAGES.items() if "batch" not in path}
    monkeypatch.setattr(apiserver._Handler, "pages", pages)
    with pytest.raises(InputError, match=r"does not serve jobs \(batch/v1\)"):
        read_cluster(source(api))


def test_without_the_kubernetes_package(api: FakeCluster, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "kubernetes", None)
    with pytest.raises(InputError, match=r"pip install 'netverify\[cluster\]'"):
        read_cluster(source(api))


def test_diff_takes_the_cluster_as_head(api: FakeCluster, tmp_path: Path) -> None:
    folder = tmp_path / "snapshot"
    kubeconfig = ("--kubeconfig", str(api.kubeconfig))
    assert run("snapshot", "--cluster", *kubeconfig, "-o", str(folder)).exit_code == EXIT_HOLDS
    same = run("diff", str(folder), "--cluster", *kubeconfig, "--fail-on", "any")
    assert same.exit_code == EXIT_HOLDS, same.stdout + same.stderr
    assert f"{folder} -> cluster:test: no connectivity change" in same.stdout
    (folder / "networkpolicies.yaml").unlink()
    closed = run("diff", str(folder), "--context", "test", *kubeconfig, "--fail-on", "removed")
    assert closed.exit_code == EXIT_VIOLATED, closed.stdout + closed.stderr
    assert "cluster:test" in closed.stdout
    two = run("diff", str(folder), str(folder), "--cluster", *kubeconfig)
    assert two.exit_code == EXIT_INPUT_ERROR
    assert "diff with a live cluster takes BASE (one path) --cluster" in two.stderr


def test_the_documented_cluster_role_grants_every_list() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "cluster.md").read_text()
    role = next(yaml.safe_load_all(text.split("```yaml\n")[1].split("```")[0]))
    granted = {
        (group, resource)
        for rule in role["rules"]
        if "list" in rule["verbs"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
    }
    assert {(listed.group, listed.resource) for listed in LISTED_KINDS} <= granted
