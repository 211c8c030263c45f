"""100 admin policies around a generated cluster: the admin-tier speed target.

Issue 13 asks that a Large cluster with 100 admin policies proves an isolation invariant
within 1.5x the time it takes without them. The policies are what a platform team writes
(per-namespace guardrails, team rules, a metadata-endpoint block, a Baseline default), at
distinct priorities, and chosen so that the dev -> prod isolation verdict stays what the
NetworkPolicies make it: every admin rule an isolation flow can meet is a Pass (to
NetworkPolicy) or concerns other sources, so the prover still has to look through the
NetworkPolicies, now behind the Admin tier.
"""

from pathlib import Path
from typing import Any

import yaml

ADMIN_FILE = "admin-policies.yaml"
ADMIN_POLICIES = 100
NAME_LABEL = "kubernetes.io/metadata.name"
_DNS = {
    "pods": {
        "namespaceSelector": {"matchLabels": {NAME_LABEL: "kube-system"}},
        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
    }
}


def write_admin_policies(folder: Path) -> Path:
    """`ADMIN_POLICIES` ClusterNetworkPolicies for the cluster in `folder`, written beside
    its manifests; the namespaces are read from its namespaces.yaml."""
    namespaces = [
        document["metadata"]
        for document in yaml.safe_load_all((folder / "namespaces.yaml").read_text("utf-8"))
        if document and document.get("kind") == "Namespace"
    ]
    teams = sorted({meta["labels"]["team"] for meta in namespaces if "team" in meta["labels"]})
    tenants = [meta for meta in namespaces if "env" in meta["labels"]]
    policies = [_metadata_block(priority=1), _monitoring_scrapes(priority=2)]
    policies += [_team_rule(team, priority=10 + index) for index, team in enumerate(teams)]
    for index in range(ADMIN_POLICIES - len(policies) - 1):
        rounds, position = divmod(index, len(tenants))
        policies.append(_tenant_guard(tenants[position]["name"], rounds, priority=100 + index))
    policies.append(_baseline_default())
    path = folder / ADMIN_FILE
    path.write_text(yaml.safe_dump_all(policies, sort_keys=False), encoding="utf-8")
    return path


def _policy(name: str, tier: str, priority: int, subject: Any, **rules: Any) -> dict[str, Any]:
    return {
        "apiVersion": "policy.networking.k8s.io/v1alpha2",
        "kind": "ClusterNetworkPolicy",
        "metadata": {"name": name},
        "spec": {"tier": tier, "priority": priority, "subject": subject, **rules},
    }


def _metadata_block(priority: int) -> dict[str, Any]:
    """No pod reaches the cloud metadata endpoint."""
    return _policy(
        "block-metadata",
        "Admin",
        priority,
        {"namespaces": {}},
        egress=[
            {"name": "metadata", "action": "Deny", "to": [{"networks": ["169.254.169.254/32"]}]}
        ],
    )


def _monitoring_scrapes(priority: int) -> dict[str, Any]:
    """Prometheus (env=ops) scrapes every pod on TCP 9090, whatever NetworkPolicies say."""
    return _policy(
        "monitoring-scrapes",
        "Admin",
        priority,
        {"namespaces": {"matchExpressions": [{"key": "env", "operator": "Exists"}]}},
        ingress=[
            {
                "name": "scrape",
                "action": "Accept",
                "from": [{"namespaces": {"matchLabels": {"env": "ops"}}}],
                "protocols": [{"tcp": {"destinationPort": {"number": 9090}}}],
            }
        ],
    )


def _team_rule(team: str, priority: int) -> dict[str, Any]:
    """A team's pods leave DNS and their own team's traffic to NetworkPolicy."""
    return _policy(
        f"team-{team}",
        "Admin",
        priority,
        {"namespaces": {"matchLabels": {"team": team}}},
        ingress=[
            {
                "name": "same-team",
                "action": "Pass",
                "from": [{"namespaces": {"matchLabels": {"team": team}}}],
            }
        ],
        egress=[
            {
                "name": "dns",
                "action": "Pass",
                "to": [_DNS],
                "protocols": [{"udp": {"destinationPort": {"number": 53}}}],
            }
        ],
    )


def _tenant_guard(namespace: str, rounds: int, priority: int) -> dict[str, Any]:
    """One namespace's guardrail: SSH from nowhere, everything else to NetworkPolicy. Small
    clusters have fewer namespaces than guardrails: a namespace's later ones (`rounds`)
    block another port."""
    return _policy(
        f"guard-{namespace}" + (f"-{rounds}" if rounds else ""),
        "Admin",
        priority,
        {"namespaces": {"matchLabels": {NAME_LABEL: namespace}}},
        ingress=[
            {
                "name": "no-ssh",
                "action": "Deny",
                "from": [{"namespaces": {}}],
                "protocols": [{"tcp": {"destinationPort": {"number": 22 + 1000 * rounds}}}],
            },
            {"name": "rest", "action": "Pass", "from": [{"namespaces": {}}]},
        ],
    )


def _baseline_default() -> dict[str, Any]:
    """Pods no NetworkPolicy selects for ingress accept only their own environment."""
    return _policy(
        "baseline-same-env",
        "Baseline",
        900,
        {"namespaces": {"matchLabels": {"env": "prod"}}},
        ingress=[
            {
                "name": "not-from-dev",
                "action": "Deny",
                "from": [{"namespaces": {"matchLabels": {"env": "dev"}}}],
            }
        ],
    )
