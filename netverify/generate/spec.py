"""The spec written beside a generated cluster: typical invariants whose verdicts are known by
construction, each description saying which verdict to expect.

An invariant whose verdict depends on policies that a small `--policies` budget left out is
not written at all, so every expectation in the file is guaranteed.
"""

from dataclasses import dataclass
from typing import Any

from netverify.generate.catalogue import DEV, KUBE_DNS_LABELS, KUBE_SYSTEM, MONITORING, PROD
from netverify.generate.cluster import GeneratedCluster, NamespacePlan
from netverify.generate.policies import ALLOW_DNS_EGRESS, DEFAULT_DENY_INGRESS, Stack

MANIFEST_FILES = ("namespaces.yaml", "workloads.yaml", "pods.yaml", "policies.yaml")
ISOLATION = "dev-never-reaches-prod"
HOLDS = "holds"
VIOLATED = "violated"


@dataclass(frozen=True)
class ExpectedInvariant:
    """One invariant of the generated spec and the verdict it gets by construction."""

    name: str
    expected: str
    """`holds` or `violated` for the cluster as generated (with the leak, if planted)."""
    body: dict[str, Any]
    """The invariant as written in the spec file, without its name and description."""
    why: str

    def as_spec_entry(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": f"Expected: {self.expected}. {self.why}",
            **self.body,
        }


def _frontend_reaches_backend(plan: NamespacePlan, stack: Stack) -> bool:
    """The stack's frontend may send to its backend (egress) and the backend admits it."""
    names = plan.policy_names
    egress_ok = not plan.has_egress_policies or stack.name("frontend-egress") in names
    return egress_ok and stack.name("backend-ingress") in names


def _backend_reaches_db(plan: NamespacePlan, stack: Stack) -> bool:
    names = plan.policy_names
    egress_ok = not plan.has_egress_policies or stack.name("backend-egress") in names
    return egress_ok and stack.name("db-ingress") in names


def _dns_source(generated: GeneratedCluster) -> tuple[str, str]:
    """A dev pod whose egress to kube-dns is allowed: in a dev namespace that denies egress
    but allows DNS if there is one, else in the open dev namespace."""
    candidates = [
        plan
        for plan in generated.plans
        if plan.env == DEV and plan.pod_names and ALLOW_DNS_EGRESS in plan.policy_names
    ]
    candidates += [plan for plan in generated.plans if plan.name == generated.open_dev_namespace]
    plan = candidates[0]
    return plan.name, plan.pod_names[0]


def expected_invariants(generated: GeneratedCluster) -> list[ExpectedInvariant]:
    """The spec's invariants, in file order."""
    leaked = generated.leak is not None
    isolation_verdict = VIOLATED if leaked else HOLDS
    leak_note = " The planted leak (--leak) breaks it." if leaked else " `--leak` would break it."
    dev_to_prod = {"from": {"namespace": {"env": DEV}}, "to": {"namespace": {"env": PROD}}}
    found = [
        ExpectedInvariant(
            ISOLATION,
            isolation_verdict,
            {"pods": "any", "forbid": dev_to_prod},
            "No pod of an env=dev namespace, existing or deployed later, reaches any pod of "
            "an env=prod namespace, on any port or protocol." + leak_note,
        ),
        ExpectedInvariant(
            "dev-does-not-reach-prod-today",
            isolation_verdict,
            {"pods": "existing", "forbid": dev_to_prod},
            "The same over the pods and workloads in the manifests." + leak_note,
        ),
    ]
    prod_plans = [plan for plan in generated.plans if plan.env == PROD]
    stacks = [(plan, stack) for plan in prod_plans for stack in plan.context.stacks]
    for plan, stack in [p for p in stacks if _frontend_reaches_backend(*p)][:2]:
        found.append(
            ExpectedInvariant(
                f"{plan.name}-{stack.app}-frontend-reaches-backend",
                HOLDS,
                {
                    "require": {
                        "from": {"pod": f"{plan.name}/{stack.name('frontend')}"},
                        "to": {"pod": f"{plan.name}/{stack.name('backend')}"},
                        "ports": ["grpc"],
                    }
                },
                f"{stack.name('backend-ingress')} admits the frontend on grpc"
                + (
                    f" and {stack.name('frontend-egress')} lets it out."
                    if plan.has_egress_policies
                    else "."
                ),
            )
        )
    for plan, stack in [p for p in stacks if _backend_reaches_db(*p)][:1]:
        database = stack.database.name
        found.append(
            ExpectedInvariant(
                f"{plan.name}-{stack.app}-backend-reaches-db",
                HOLDS,
                {
                    "require": {
                        "from": {"pod": f"{plan.name}/{stack.name('backend')}"},
                        "to": {"pod": f"{plan.name}/{stack.name('db')}"},
                        "ports": [database],
                    }
                },
                f"{stack.name('db-ingress')} admits the backend on {database}.",
            )
        )
    scraped = [p for p in stacks if stack_policy(p, "backend-ingress")][:1]
    for plan, stack in scraped:
        found.append(
            ExpectedInvariant(
                "prometheus-scrapes-prod-backends",
                HOLDS,
                {
                    "reachable": {
                        "from": {"pod": f"{MONITORING}/prometheus"},
                        "to": {"namespace": plan.name, "pod": stack.labels("backend")},
                        "ports": ["metrics"],
                    }
                },
                f"{stack.name('backend-ingress')} admits Prometheus on the metrics port.",
            )
        )
    dns_namespace, dns_pod = _dns_source(generated)
    found.append(
        ExpectedInvariant(
            "dev-pod-resolves-dns",
            HOLDS,
            {
                "reachable": {
                    "from": {"pod": f"{dns_namespace}/{dns_pod}"},
                    "to": {"namespace": KUBE_SYSTEM, "pod": dict(KUBE_DNS_LABELS)},
                    "ports": ["53/UDP"],
                }
            },
            "kube-system has no policy, and the dev namespace either does not restrict "
            "egress or allows DNS to kube-dns.",
        )
    )
    # A leak planted into a default deny (no backend policy to host it) admits dev bare pods,
    # which have addresses, into prod databases too; the verdict then depends on their egress.
    leak_selects_databases = (
        generated.leak is not None and generated.leak.policy == DEFAULT_DENY_INGRESS
    )
    if not leak_selects_databases:
        found.append(
            ExpectedInvariant(
                "internet-never-reaches-prod-databases",
                HOLDS,
                {
                    "forbid": {
                        "from": {"ip": "0.0.0.0/0"},
                        "to": {"namespace": {"env": PROD}, "pod": {"tier": "db"}},
                    }
                },
                "Prod databases admit only their own backends (no bare prod pod is a backend) "
                "and Prometheus. Without podCIDRs, pods that could exist have no address, so "
                "this is about external addresses and existing bare pods.",
            )
        )
    if any(stack_policy(p, "frontend-ingress") for p in stacks):
        found.append(
            ExpectedInvariant(
                "internet-never-reaches-prod-frontends",
                VIOLATED,
                {
                    "forbid": {
                        "from": {"ip": "0.0.0.0/0"},
                        "to": {"namespace": {"env": PROD}, "pod": {"tier": "frontend"}},
                    }
                },
                "By design: prod frontends admit 0.0.0.0/0 except 10.0.0.0/8 on their http "
                "port (<app>-frontend-ingress).",
            )
        )
    found.append(
        ExpectedInvariant(
            "dev-reaches-kube-system-only-for-dns",
            VIOLATED,
            {
                "forbid": {
                    "from": {"namespace": {"env": DEV}},
                    "to": {"namespace": KUBE_SYSTEM},
                    "ports": ["1-52/TCP", "54-65535/TCP"],
                }
            },
            f"kube-system has no NetworkPolicy, and pods of {generated.open_dev_namespace} "
            "may send anywhere, so they reach kube-dns on every port.",
        )
    )
    return found


def stack_policy(located: tuple[NamespacePlan, Stack], role: str) -> bool:
    """Whether the stack's policy for `role` (e.g. `frontend-ingress`) was generated."""
    plan, stack = located
    return stack.name(role) in plan.policy_names


def spec_document(invariants: list[ExpectedInvariant]) -> dict[str, Any]:
    """The spec file's content."""
    return {
        "manifests": list(MANIFEST_FILES),
        "invariants": [invariant.as_spec_entry() for invariant in invariants],
    }
