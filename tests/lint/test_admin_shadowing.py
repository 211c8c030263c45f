"""NVL012 across policies, proved with Z3: the rules that come first and decide every flow a
rule matches (its own policy's, a policy of lower priority number, and for the Baseline tier
the Admin tier and NetworkPolicy), named at file:line; never a policy that may come after."""

import re
from itertools import product
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from netverify.encoding.solver import SolverLimits
from netverify.engine.lint import REGISTRY, lint
from netverify.engine.lint.context import LintContext
from netverify.loading import load_manifests
from netverify.model import Flow, LoadedCluster, Protocol, Settings
from netverify.semantics import evaluate
from netverify.semantics.evaluator import _choices, placements
from tests.diff.test_diff_differential import DIFFERENTIAL, _endpoints, not_probed
from tests.strategies import INTERESTING_PORTS, clusters

FIXTURE = Path(__file__).parent / "fixtures" / "admin-rule-shadowed"


def _shadowed(path: Path) -> dict[str, list[str]]:
    """Each NVL012 finding's rule (`policy direction[i]`) and what shadows it, located."""
    report = lint(load_manifests([str(path)]), Settings(), SolverLimits())
    return {
        f"{found.rule.policy.name} {found.rule.direction.value.lower()}[{found.rule.index}]": list(
            found.related
        )
        for found in report.findings
        if found.check == "NVL012" and found.rule is not None
    }


def _unlocated(related: list[str]) -> list[str]:
    return [re.sub(r" \(\S+:\d+\)$", "", entry) for entry in related]


def test_rules_shadowed_by_what_comes_first_are_found_and_named() -> None:
    found = _shadowed(FIXTURE / "fires")
    assert {rule: _unlocated(related) for rule, related in found.items()} == {
        "dev-guard egress[0]": ['cnp/prod-guard (priority 5) egress[0] "deny-prod" (Deny)'],
        "dev-guard egress[1]": ['cnp/dev-guard egress[0] "deny-prod" (Deny)'],
        "db-access egress[0]": ['cnp/prod-guard (priority 5) egress[0] "deny-prod" (Deny)'],
        "split ingress[0]": [
            'cnp/halves (priority 7) ingress[0] "from-prod" (Pass)',
            'cnp/halves (priority 7) ingress[1] "from-non-prod" (Deny)',
        ],
        "fallback egress[0]": [
            'cnp/prod-guard (priority 5) egress[0] "deny-prod" (Deny) in the Admin tier'
        ],
    }
    assert found["db-access egress[0]"][0].endswith("priorities.yaml:17)")


def test_what_may_come_after_shadows_nothing() -> None:
    """Equal priorities, a Pass before a Baseline rule, a partial cover (the fixture's
    comments say why each may decide)."""
    assert _shadowed(FIXTURE / "quiet") == {}


BASELINE = """
apiVersion: v1
kind: Namespace
metadata: {name: dev}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: dev}
spec:
  podSelector: {}
  policyTypes: [DIRECTION]
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: dev-default}
spec:
  tier: Baseline
  priority: 1
  subject:
    namespaces:
      matchLabels: {kubernetes.io/metadata.name: dev}
  egress:
    - name: deny-all
      action: Deny
      to:
        - networks: [0.0.0.0/0]
"""


def test_a_baseline_rule_under_a_network_policy_is_shadowed(tmp_path: Path) -> None:
    """dev's pods are all isolated for egress by a NetworkPolicy, which decides before the
    Baseline tier; isolated for ingress only, the Baseline egress rule still decides."""
    for direction, shadowed in (("Egress", True), ("Ingress", False)):
        (tmp_path / "cluster.yaml").write_text(BASELINE.replace("DIRECTION", direction))
        found = _shadowed(tmp_path)
        expected = {
            "dev-default egress[0]": ["NetworkPolicy dev/default-deny (where it selects the pod)"]
        }
        assert {rule: _unlocated(r) for rule, r in found.items()} == (expected if shadowed else {})


HALVES_OF_ITS_OWN = """
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: halves}
spec:
  tier: Admin
  priority: 7
  subject: {namespaces: {matchLabels: {team: qa}}}
  ingress:
    - {name: from-prod, action: Pass, from: [{namespaces: {matchLabels: {env: prod}}}]}
    - name: from-non-prod
      action: Deny
      from: [{namespaces: {matchExpressions: [{key: env, operator: NotIn, values: [prod]}]}}]
    - {name: allow-any, action: Accept, from: [{namespaces: {}}]}
"""


def test_rules_of_its_own_policy_are_named_without_the_policy(tmp_path: Path) -> None:
    """The finding names its policy already; `related` names each rule on its own."""
    (tmp_path / "cluster.yaml").write_text(HALVES_OF_ITS_OWN)
    report = lint(load_manifests([str(tmp_path)]), Settings(), SolverLimits())
    (found,) = [f for f in report.findings if f.check == "NVL012"]
    assert found.message.startswith(
        'ingress[2] "allow-any" never decides a flow: ingress[0] "from-prod" (Pass); '
        'ingress[1] "from-non-prod" (Deny) come first and decide every flow it matches'
    )
    assert _unlocated(list(found.related)) == [
        'cnp/halves ingress[0] "from-prod" (Pass)',
        'cnp/halves ingress[1] "from-non-prod" (Deny)',
    ]


@settings(DIFFERENTIAL, max_examples=30)
@given(data=st.data())
def test_a_shadowed_rule_decides_no_flow_in_any_order(data: st.DataObject) -> None:
    """On generated clusters with admin policies, no rule NVL012 reports decides a flow
    between existing pods and the strategies' addresses, in any order the API allows."""
    cluster = data.draw(clusters(max_pods=4, max_policies=2, max_admin_policies=4))
    check = REGISTRY["NVL012"]
    context = LintContext(LoadedCluster(cluster=cluster), Settings(), SolverLimits())
    shadowed = {found.rule for found in check.find(context, check.info)}
    if not shadowed:
        return
    ports = sorted({*INTERESTING_PORTS, *(p.port for pod in cluster.pods for p in pod.ports)})
    endpoints = _endpoints(cluster)
    for source, destination, protocol, port in product(endpoints, endpoints, Protocol, ports):
        if not_probed(source, destination):
            continue
        flow = Flow(source=source, destination=destination, protocol=protocol, port=port)
        for placed in placements(flow):
            for choose in _choices(cluster, placed):
                decision = evaluate(cluster, placed, Settings(), choose)
                for side in (decision.egress, decision.ingress):
                    deciding = {m.rule for m in (side.admin_rule, side.passed_by) if m}
                    assert not deciding & shadowed, (placed, deciding & shadowed)
