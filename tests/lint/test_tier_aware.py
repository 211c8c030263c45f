"""Lint with admin policy tiers: the NetworkPolicy checks stay right when the tiers decide
(mutation-checked: each test also lints the cluster without the admin policy that makes the
difference), the tier checks NVL015-NVL018 give replayed witnesses, and the admin-tiers
example lints as its README says."""

from pathlib import Path

from typer.testing import CliRunner

from netverify.cli.app import app
from netverify.encoding.solver import SolverLimits
from netverify.engine.lint import lint
from netverify.loading import load_manifests
from netverify.model import Flow, LoadedCluster, Protocol, Settings, pod_at_first_address
from netverify.model.lint import LintReport
from netverify.semantics.evaluator import possible_verdicts

REPO = Path(__file__).parents[2]
EXAMPLE = REPO / "examples" / "admin-tiers"
TIER_CHECKS = {"NVL015", "NVL016", "NVL017", "NVL018", "NVL020"}


def _pod(name: str, namespace: str, labels: str) -> str:
    return f"""
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: {namespace}, labels: {{{labels}}}}}
"""


COREDNS = _pod("coredns", "kube-system", "k8s-app: kube-dns")
NAMESPACES = "---".join(
    [
        """
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {env: dev}}
---
apiVersion: v1
kind: Namespace
metadata: {name: kube-system}
""",
        _pod("web", "shop", "app: web"),
        COREDNS,
    ]
)

BASELINE_DENY = """
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: default-deny}
spec:
  tier: Baseline
  priority: 100
  subject: {namespaces: {matchLabels: {env: dev}}}
  ingress: [{name: deny-all, action: Deny, from: [{namespaces: {}}]}]
"""

ADMIN_DNS = """
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: dns}
spec:
  tier: Admin
  priority: 5
  subject: {namespaces: {}}
  egress:
    - name: accept-dns
      action: Accept
      to: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {k8s-app: kube-dns}}}}]
      protocols: [{udp: {destinationPort: {number: 53}}}]
"""


def _lint(loaded: LoadedCluster) -> LintReport:
    return lint(loaded, Settings(), SolverLimits())


def _load(tmp_path: Path, *documents: str) -> LoadedCluster:
    path = tmp_path / "cluster.yaml"
    path.write_text("---".join(documents))
    return load_manifests([str(path)])


def _without_admin(loaded: LoadedCluster) -> LoadedCluster:
    return loaded.model_copy(
        update={"cluster": loaded.cluster.model_copy(update={"admin_policies": ()})}
    )


def _checks(report: LintReport) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for each in report.findings:
        found.setdefault(each.check, []).append(each.message)
    return found


def test_an_allow_all_that_overrides_a_baseline_deny_is_not_redundant(tmp_path: Path) -> None:
    allow_all = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-all, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress: [{}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}]}]
"""
    loaded = _load(tmp_path, NAMESPACES, allow_all, BASELINE_DENY)
    # Without the Baseline tier the allow-all changes nothing (NVL004); with it, removing
    # the policy lets the Baseline Deny decide: it matters.
    assert "NVL004" in _checks(_lint(_without_admin(loaded)))
    assert "NVL004" not in _checks(_lint(loaded))


def test_dns_accepted_in_the_admin_tier_is_no_missing_dns_path(tmp_path: Path) -> None:
    egress_deny = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: no-egress, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Egress]
"""
    loaded = _load(tmp_path, NAMESPACES, egress_deny, ADMIN_DNS)
    assert "NVL006" in _checks(_lint(_without_admin(loaded)))
    assert "NVL006" not in _checks(_lint(loaded))
    # A policy no existing pod matches is proved over every pod: the Accept counts there too.
    alone = _load(tmp_path, egress_deny, ADMIN_DNS)
    assert "NVL006" in _checks(_lint(_without_admin(alone)))
    assert "NVL006" not in _checks(_lint(alone))


def test_policies_of_both_api_versions_have_no_defined_order(tmp_path: Path) -> None:
    anp = """
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: old-deny}
spec:
  priority: 50
  subject: {namespaces: {matchLabels: {env: dev}}}
  egress: [{name: deny-dns, action: Deny, to: [{namespaces: {}}]}]
"""
    loaded = _load(tmp_path, NAMESPACES, anp, ADMIN_DNS)
    (message,) = _checks(_lint(loaded))["NVL015"]
    assert message.startswith(("this policy and anp/old-deny", "this policy and cnp/dns"))
    assert "of different API versions" in message
    assert "UDP/53" in message
    # The Deny cuts UDP/53 only in some order, so NVL017 claims only TCP/53, which the
    # Accept leaves out.
    (cut,) = _checks(_lint(loaded))["NVL017"]
    assert cut.endswith("TCP/53 is blocked, so the pods it applies to cannot resolve names")


def test_the_admin_tiers_example_has_no_tier_finding() -> None:
    report = _lint(load_manifests([str(EXAMPLE)]))
    assert not TIER_CHECKS & _checks(report).keys()
    result = CliRunner().invoke(app, ["lint", str(EXAMPLE)])
    assert result.exit_code == 0
    assert "does not model admin policy tiers" not in result.stderr


def _example_with_guard_rules(keep: slice) -> LoadedCluster:
    """The example with only the `keep` egress rules of dev-guard (pass-dns, deny-outside-dev)."""
    loaded = load_manifests([str(EXAMPLE)])
    guard = next(p for p in loaded.cluster.admin_policies if p.name == "dev-guard")
    assert [rule.name for rule in guard.egress] == ["pass-dns", "deny-outside-dev"]
    mutated = guard.model_copy(update={"egress": guard.egress[keep]})
    others = tuple(p for p in loaded.cluster.admin_policies if p is not guard)
    cluster = loaded.cluster.model_copy(update={"admin_policies": (*others, mutated)})
    return loaded.model_copy(update={"cluster": cluster})


def test_the_example_without_its_dns_pass_cuts_dns() -> None:
    (message,) = _checks(_lint(_example_with_guard_rules(slice(1, None))))["NVL017"]
    assert '"deny-outside-dev" denies DNS' in message
    assert "-> kube-system/" in message


def test_the_example_without_its_deny_has_a_pass_without_effect() -> None:
    (message,) = _checks(_lint(_example_with_guard_rules(slice(0, 1))))["NVL016"]
    assert message.startswith('egress[0] "pass-dns" has no effect: no later rule of this policy')


def test_an_accept_blocked_at_ingress_names_the_isolating_policy() -> None:
    fires = REPO / "tests" / "lint" / "fixtures" / "admin-accept-blocked-at-ingress" / "fires"
    (finding,) = [f for f in _lint(load_manifests([str(fires)])).findings if f.check == "NVL018"]
    assert "prod/default-deny" in finding.message
    assert finding.rule is not None and finding.rule.index == 0


def test_a_backend_an_admin_deny_locks_is_unreachable(tmp_path: Path) -> None:
    service = """
apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop}
spec:
  selector: {app: db}
  ports: [{port: 5432}]
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: lock}
spec:
  tier: Admin
  priority: 5
  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: db}}}}
  ingress: [{name: deny-all, action: Deny, from: [{namespaces: {}}]}]
"""
    loaded = _load(tmp_path, NAMESPACES, _pod("db", "shop", "app: db"), service)
    assert "NVL014" not in _checks(_lint(_without_admin(loaded)))
    (message,) = _checks(_lint(loaded))["NVL014"]
    assert message.endswith("ingress blocked: denied by cnp/lock ingress[0] (Deny)")


def test_deleting_a_pass_without_effect_changes_no_verdict(tmp_path: Path) -> None:
    fires = REPO / "tests" / "lint" / "fixtures" / "admin-pass-without-effect" / "fires"
    pods = "---".join([_pod("web", "dev", "app: web"), _pod("db", "prod", "app: db"), COREDNS])
    (tmp_path / "pods.yaml").write_text(pods)
    loaded = load_manifests([str(fires), str(tmp_path / "pods.yaml")])
    (found,) = [f for f in _lint(loaded).findings if f.check == "NVL016"]
    assert found.rule is not None
    (guard,) = loaded.cluster.admin_policies
    without = loaded.cluster.model_copy(
        update={"admin_policies": (guard.model_copy(update={"egress": guard.egress[1:]}),)}
    )
    namespaces = {namespace.name: namespace for namespace in loaded.cluster.namespaces}
    ends = [pod_at_first_address(namespaces[pod.namespace], pod) for pod in loaded.cluster.pods]
    for source in ends:
        for destination in ends:
            for protocol, port in ((Protocol.UDP, 53), (Protocol.TCP, 53), (Protocol.TCP, 80)):
                flow = Flow(source=source, destination=destination, protocol=protocol, port=port)
                before = possible_verdicts(loaded.cluster, flow).keys()
                assert before == possible_verdicts(without, flow).keys(), flow


PASS_BEFORE_DENY_EVERY_NETWORK = """
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: guard}
spec:
  tier: Admin
  priority: 10
  subject: {namespaces: {}}
  egress:
  - name: pass-to-restricted
    action: Pass
    to: [{namespaces: {matchLabels: {tenant: restricted}}}]
  - {name: default-deny, action: Deny, to: [{networks: [0.0.0.0/0]}]}
"""
"""OVN-Kubernetes' AdminNetworkPolicy page example, reduced: a Pass to the restricted tenants
before a Deny of every IPv4 address, which pod addresses are in."""

ADDRESSED_PODS = """
apiVersion: v1
kind: Namespace
metadata: {name: r, labels: {tenant: restricted}}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: shop}
status: {podIP: 10.244.0.7}
---
apiVersion: v1
kind: Pod
metadata: {name: server, namespace: r}
status: {podIP: 10.244.2.5}
"""


def test_a_pass_before_a_deny_of_the_addresses_of_existing_pods_has_an_effect(
    tmp_path: Path,
) -> None:
    """The Deny matches the existing pods by their addresses: deleting the Pass blocks
    shop/client -> r/server, so NVL016 must not say it has no effect (a pod that could exist
    has no address without podCIDRs, and no such flow is found among them). Without
    addresses the pods are like those that could exist, and the Pass does nothing."""
    loaded = _load(tmp_path, NAMESPACES, ADDRESSED_PODS, PASS_BEFORE_DENY_EVERY_NETWORK)
    assert "NVL016" not in _checks(_lint(loaded))
    (guard,) = loaded.cluster.admin_policies
    without = loaded.cluster.model_copy(
        update={"admin_policies": (guard.model_copy(update={"egress": guard.egress[1:]}),)}
    )
    namespaces = {namespace.name: namespace for namespace in loaded.cluster.namespaces}
    ends = {
        pod.name: pod_at_first_address(namespaces[pod.namespace], pod)
        for pod in loaded.cluster.pods
    }
    flow = Flow(source=ends["client"], destination=ends["server"], protocol=Protocol.TCP, port=80)
    assert possible_verdicts(loaded.cluster, flow).keys() != possible_verdicts(without, flow).keys()
    unaddressed = _load(
        tmp_path,
        NAMESPACES,
        ADDRESSED_PODS.replace("status: {podIP: ", "# "),
        PASS_BEFORE_DENY_EVERY_NETWORK,
    )
    assert "NVL016" in _checks(_lint(unaddressed))
