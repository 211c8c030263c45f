"""`domainNames` peers and pods without a known address: explain, matrix and prove never give
a definite verdict that rests on a name matching no pod.

NPEP-133 lets a name select pods (a pod's DNS record `*.pod.cluster.local`, a headless
Service's `*.svc.cluster.local`), and any zone may publish a pod's address, so an Accept of
any name may allow a flow to any pod, whether or not the manifests give its address (the
devprod pods have none)."""

import json
import shutil
from pathlib import Path

import pytest

from .test_cli import EXIT_HOLDS, EXIT_INPUT_ERROR, EXIT_UNKNOWN, EXIT_VIOLATED, run

REPO = Path(__file__).resolve().parents[2]
NAMES = ["*.pod.cluster.local", "*.svc.cluster.local", "*.cluster.local", "my-service.com"]
"""The in-cluster wildcards, and an external name: any zone may point at a pod."""
ALLOWLIST = """\
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {{name: dev-allowlist}}
spec:
  tier: Admin
  priority: 5
  subject: {{namespaces: {{matchLabels: {{kubernetes.io/metadata.name: dev}}}}}}
  egress:
  - {{name: names, action: Accept, to: [{{domainNames: ["{name}"]}}]}}
  - {{name: monitoring, action: Accept, to: [{{namespaces: {{matchLabels: {{env: ops}}}}}}]}}
  - {{name: no-pods, action: Deny, to: [{{namespaces: {{}}}}]}}
  - {{name: no-nodes, action: Deny, to: [{{nodes: {{}}}}]}}
"""
"""dev's pods reach the names and monitoring; every other pod (host-network pods: every
node) is denied, unless a name resolves to it."""
TO_PROD_WEB = ["--from", "dev/web", "--to", "prod/web", "--port", "8080"]
DOUBT = (
    "dev/web -> prod/web TCP/8080 is blocked unless its destination is an address of a "
    "`domainNames` peer of cnp/dev-allowlist, which netverify cannot resolve (a name may "
    "resolve to a pod's address, whether or not the manifests give it"
)


@pytest.fixture(params=NAMES)
def allowlist(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    for manifest in (REPO / "examples" / "devprod").glob("*.yaml"):
        shutil.copy(manifest, tmp_path)
    monkeypatch.chdir(tmp_path)
    name = str(request.param)
    Path("allowlist.yaml").write_text(ALLOWLIST.format(name=name))
    return name


def test_explain_says_unknown_where_a_name_may_resolve_to_a_pod_without_an_address(
    allowlist: str,
) -> None:
    """Blocked by the Deny as netverify sees it; allowed when the name resolves to the pod
    (prove's `unknown`): text and JSON say why, exit 3."""
    text = run("explain", ".", *TO_PROD_WEB)
    assert text.exit_code == EXIT_UNKNOWN, text.output
    assert text.stdout.startswith("dev/web (app=web,tier=frontend) -> prod/web")
    assert f"  unknown: {DOUBT}" in text.stdout
    data = json.loads(run("explain", ".", *TO_PROD_WEB, "-f", "json").stdout)
    assert data["to"]["ip"] is None
    assert not data["allowed"]
    assert data["doubt"].startswith(DOUBT)


def test_explain_stays_definite_where_no_name_can_change_the_verdict(allowlist: str) -> None:
    """An Accept can only allow egress: a flow allowed stays allowed, and a flow the
    destination's ingress blocks stays blocked."""
    allowed = run(
        "explain", ".", "--from", "dev/web", "--to", "monitoring/prometheus", "--port", "9090"
    )
    assert allowed.exit_code == EXIT_HOLDS, allowed.output
    assert "unknown" not in allowed.stdout
    blocked = run(
        "explain", ".", "--from", "dev/web", "--to", "prod/db", "--port", "5432", "-f", "json"
    )
    assert blocked.exit_code == EXIT_VIOLATED, blocked.output
    assert "doubt" not in json.loads(blocked.stdout)


def test_matrix_notes_that_a_cell_to_a_pod_without_an_address_may_be_allowed(
    allowlist: str,
) -> None:
    """The cell is shown blocked (names match no address) and the note, in text as in
    JSON `undecided`, says that cells to pods may be allowed, known address or not."""
    note = (
        "cnp/dev-allowlist accepts egress to `domainNames`, which netverify cannot resolve: a "
        "cell from a pod it selects shown blocked may be allowed, to a pod too, whether or not "
        "its address is known"
    )
    text = run("matrix", ".")
    assert text.exit_code == EXIT_HOLDS, text.output
    assert f"note: {note}" in text.stdout
    data = json.loads(run("matrix", ".", "-f", "json").stdout)
    cell = next(c for c in data["cells"] if (c["from"], c["to"]) == ("dev/web", "prod/web"))
    assert not cell["allowed"]
    assert any(line.startswith(note) for line in data["undecided"])


def test_prove_require_is_unknown_not_violated_on_a_flow_a_name_may_allow(
    allowlist: str,
) -> None:
    """The counterexample flow to a pod without an address may be allowed by the name."""
    Path("spec.yaml").write_text(
        "manifests: [.]\ninvariants:\n  - name: dev-reaches-prod-web\n    require:\n"
        "      from: {namespace: dev}\n      to: {namespace: prod, pod: {app: web}}\n"
        "      ports: [8080]\n"
    )
    result = run("prove", "spec.yaml")
    assert result.exit_code == EXIT_UNKNOWN, result.output
    assert DOUBT in result.stdout


@pytest.mark.parametrize("command", [["explain", *TO_PROD_WEB], ["matrix"]])
def test_a_deny_of_domain_names_is_an_input_error(command: list[str], allowlist: str) -> None:
    """The API supports `domainNames` in Accept rules only (NPEP-133: a Deny by name cannot
    be enforced safely); a Deny is refused, with its file and line, exit 2."""
    Path("allowlist.yaml").write_text(
        ALLOWLIST.format(name=allowlist).replace("names, action: Accept", "names, action: Deny")
    )
    result = run(command[0], ".", *command[1:])
    assert result.exit_code == EXIT_INPUT_ERROR, result.output
    assert (
        "./allowlist.yaml:9: error: ClusterNetworkPolicy dev-allowlist: spec.egress[0].to: "
        "domainNames peers are only supported for Accept/Allow rules"
    ) in result.stderr


def test_explain_says_unknown_to_a_host_network_pod_on_no_known_node(allowlist: str) -> None:
    """A name may resolve to a node's address too (a headless Service of host-network
    pods): the Deny of every node is no definite answer either."""
    Path("agent.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: agent, namespace: prod}\n"
        "spec: {hostNetwork: true, containers: [{name: a, image: x}]}\n"
    )
    result = run("explain", ".", "--from", "dev/web", "--to", "prod/agent", "--port", "80")
    assert result.exit_code == EXIT_UNKNOWN, result.output
    assert "unknown: dev/web -> prod/agent TCP/80 is blocked unless" in result.stdout
