"""The NetworkPolicies of one generated namespace.

Isolation by construction: in a prod namespace every ingress rule names its peers (never an
empty `from`), and every peer excludes env=dev pods whatever labels they carry — pods of the
same namespace, namespaces selected by `env In [prod, staging]`, `env NotIn [dev, ...]` or by
name, and `ipBlock`s outside the pod network 10.0.0.0/8. Together with the default-deny ingress
policy that every prod namespace has, no pod of a dev namespace, existing or future, can reach
a prod pod. Prod policies also never select `tier=db` pods except `<app>-db-ingress`, which
admits only the application's backends of the same namespace (so the internet cannot reach
a prod database). Other environments get the looser habits seen in real clusters:
`namespaceSelector: {}`, rules without `from`, ipBlocks over the pod network.
"""

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from netverify.generate.catalogue import (
    DNS_TCP,
    DNS_UDP,
    GRPC,
    HTTP,
    KUBE_DNS_LABELS,
    KUBE_SYSTEM,
    MEMCACHE,
    METRICS,
    MONITORING,
    PARTNER_NETWORKS,
    PRIVATE_RANGES,
    PROD,
    PROMETHEUS_LABELS,
    STAGING,
    TEAMS,
)
from netverify.generate.objects import (
    NAMESPACE_NAME_LABEL,
    Manifest,
    NamedPort,
    egress_rule,
    expression,
    ingress_rule,
    ip_block,
    match_expressions,
    match_labels,
    network_policy,
    peer,
    port,
)

DEFAULT_DENY_INGRESS = "default-deny-ingress"
DEFAULT_DENY_EGRESS = "default-deny-egress"
ALLOW_DNS_EGRESS = "allow-dns-egress"
LEAK_PORT = 8080


@dataclass(frozen=True)
class Stack:
    """One application in one namespace: frontend, backend and database workloads, maybe a
    memcached cache (UDP) and a Diameter signalling service (SCTP)."""

    app: str
    version: str
    database: NamedPort
    database_image: str
    cache: bool
    signaling: bool

    def name(self, role: str) -> str:
        """The name of the stack's workload (`frontend`) or policy (`backend-ingress`)."""
        return f"{self.app}-{role}"

    def labels(self, tier: str) -> dict[str, str]:
        return {"app": self.app, "tier": tier}


@dataclass(frozen=True)
class NamespaceContext:
    """What the policies of one namespace depend on."""

    name: str
    env: str
    team: str
    stacks: tuple[Stack, ...]
    isolates_egress: bool
    """The namespace denies egress by default; only then does it get egress policies."""

    @property
    def prod(self) -> bool:
        return self.env == PROD


def _monitoring_peer() -> Manifest:
    return peer(
        namespaces=match_labels({NAMESPACE_NAME_LABEL: MONITORING}),
        pods=match_labels(PROMETHEUS_LABELS),
    )


def _kube_dns_peer() -> Manifest:
    return peer(
        namespaces=match_labels({NAMESPACE_NAME_LABEL: KUBE_SYSTEM}),
        pods=match_labels(KUBE_DNS_LABELS),
    )


def _public_internet() -> Manifest:
    return ip_block("0.0.0.0/0", PRIVATE_RANGES)


def baseline_policies(context: NamespaceContext, rng: random.Random) -> list[Manifest]:
    """Default-deny ingress (always in prod), and default-deny egress with DNS allowed."""
    policies = []
    if context.prod or rng.random() < 0.5:
        policies.append(network_policy(context.name, DEFAULT_DENY_INGRESS, {}, ingress=[]))
    if context.isolates_egress:
        policies.append(network_policy(context.name, DEFAULT_DENY_EGRESS, {}, egress=[]))
        named = rng.random() < 0.5
        dns_ports = (
            [port(DNS_UDP.name, "UDP"), port(DNS_TCP.name, "TCP")]
            if named
            else [port(53, "UDP"), port(53, "TCP")]
        )
        policies.append(
            network_policy(
                context.name,
                ALLOW_DNS_EGRESS,
                {},
                egress=[egress_rule([_kube_dns_peer()], dns_ports)],
            )
        )
    return policies


def stack_policies(context: NamespaceContext, stack: Stack) -> list[Manifest]:
    """The policies that make the stack work, most important first: frontend -> backend on
    grpc, backend -> database, then the frontend's own ingress and the optional tiers."""
    ns = context.name
    frontend, backend, db = (
        match_labels(stack.labels(tier)) for tier in ("frontend", "backend", "db")
    )
    metrics_rule = ingress_rule([_monitoring_peer()], [port(METRICS.name)])
    if context.prod:
        frontends_elsewhere = peer(
            namespaces=match_expressions(expression("env", "In", (PROD, STAGING))),
            pods=match_labels(stack.labels("frontend")),
        )
        internet = ip_block("0.0.0.0/0", ("10.0.0.0/8",))
    else:
        # NOTE: `namespaceSelector: {}` admits tier=frontend pods of every namespace.
        frontends_elsewhere = peer(namespaces={}, pods=match_labels({"tier": "frontend"}))
        internet = ip_block("0.0.0.0/0")
    policies = [
        network_policy(
            ns,
            stack.name("backend-ingress"),
            backend,
            ingress=[
                ingress_rule([peer(pods=frontend)], [port(GRPC.name)]),
                ingress_rule([frontends_elsewhere], [port(HTTP.number)]),
                metrics_rule,
            ],
        )
    ]
    if context.isolates_egress:
        policies.append(
            network_policy(
                ns,
                stack.name("frontend-egress"),
                frontend,
                egress=[egress_rule([peer(pods=backend)], [port(GRPC.name)])],
            )
        )
    policies.append(
        network_policy(
            ns,
            stack.name("db-ingress"),
            db,
            ingress=[
                ingress_rule([peer(pods=backend)], [port(stack.database.name)]),
                metrics_rule,
            ],
        )
    )
    if context.isolates_egress:
        policies.append(
            network_policy(
                ns,
                stack.name("backend-egress"),
                backend,
                egress=[
                    egress_rule([peer(pods=db)], [port(stack.database.number)]),
                    egress_rule([_public_internet()], [port(443)]),
                ],
            )
        )
    frontend_rules = [ingress_rule([internet], [port(HTTP.name)]), metrics_rule]
    if not context.prod:
        frontend_rules.insert(0, ingress_rule(None, [port(HTTP.number)]))
    policies.append(
        network_policy(ns, stack.name("frontend-ingress"), frontend, ingress=frontend_rules)
    )
    if stack.cache:
        policies.append(
            network_policy(
                ns,
                stack.name("cache-ingress"),
                match_labels(stack.labels("cache")),
                ingress=[
                    ingress_rule(
                        [peer(pods=backend)],
                        [port(MEMCACHE.name, "UDP"), port(MEMCACHE.number, "TCP")],
                    )
                ],
            )
        )
    if stack.signaling:
        policies.append(
            network_policy(
                ns,
                stack.name("signaling-ingress"),
                match_labels(stack.labels("signaling")),
                ingress=[
                    ingress_rule(
                        [
                            peer(
                                namespaces=match_expressions(
                                    expression("env", "NotIn", ("dev", "sandbox", "qa")),
                                    expression("team", "Exists"),
                                ),
                                pods=match_expressions(
                                    expression("tier", "In", ("signaling", "backend")),
                                    expression("debug", "DoesNotExist"),
                                ),
                            )
                        ],
                        [port("diameter", "SCTP"), port(2905, "SCTP", end=2910)],
                    )
                ],
            )
        )
    return policies


Filler = Callable[[NamespaceContext, random.Random, str], Manifest]


def _target(context: NamespaceContext, rng: random.Random, tier: str) -> Manifest:
    """A selector for `tier` pods: of one of the namespace's applications, or of all."""
    if context.stacks and rng.random() < 0.7:
        return match_labels(rng.choice(context.stacks).labels(tier))
    return match_labels({"tier": tier})


def _metrics_from_monitoring(context: NamespaceContext, rng: random.Random, name: str) -> Manifest:
    not_db = match_expressions(expression("tier", "NotIn", ("db",)))
    return network_policy(
        context.name,
        name,
        not_db,
        ingress=[ingress_rule([_monitoring_peer()], [port(METRICS.number)])],
    )


def _partner(context: NamespaceContext, rng: random.Random, name: str) -> Manifest:
    network = rng.choice(PARTNER_NETWORKS)
    upper_half = network.replace(".0/24", ".128/25")
    return network_policy(
        context.name,
        name,
        _target(context, rng, "frontend"),
        ingress=[ingress_rule([ip_block(network, (upper_half,))], [port(443), port(8443)])],
    )


def _team_backends(context: NamespaceContext, rng: random.Random, name: str) -> Manifest:
    team = rng.choice(TEAMS)
    return network_policy(
        context.name,
        name,
        _target(context, rng, "backend"),
        ingress=[
            ingress_rule(
                [
                    peer(
                        namespaces=match_expressions(
                            expression("env", "In", (PROD,)), labels={"team": team}
                        ),
                        pods=match_expressions(
                            expression("tier", "In", ("backend",)),
                            expression("canary", "DoesNotExist"),
                        ),
                    )
                ],
                [port(8000, "TCP", end=8100)],
            )
        ],
    )


def _batch_jobs(context: NamespaceContext, rng: random.Random, name: str) -> Manifest:
    return network_policy(
        context.name,
        name,
        _target(context, rng, "backend"),
        ingress=[ingress_rule([peer(pods=match_labels({"tier": "job"}))], [port(HTTP.name)])],
    )


def _operators(context: NamespaceContext, rng: random.Random, name: str) -> Manifest:
    return network_policy(
        context.name,
        name,
        match_expressions(expression("tier", "In", ("frontend", "backend"))),
        ingress=[
            ingress_rule(
                [
                    peer(
                        namespaces=match_expressions(
                            expression("env", "Exists"),
                            expression("env", "NotIn", ("dev", "sandbox")),
                        ),
                        pods=match_labels({"role": "operator"}),
                    )
                ],
                [port(8081), port(8125, "UDP")],
            )
        ],
    )


def _egress_internet(context: NamespaceContext, rng: random.Random, name: str) -> Manifest:
    return network_policy(
        context.name,
        name,
        _target(context, rng, "frontend"),
        egress=[egress_rule([_public_internet()], [port(443), port(80)])],
    )


def _egress_staging_apis(context: NamespaceContext, rng: random.Random, name: str) -> Manifest:
    return network_policy(
        context.name,
        name,
        _target(context, rng, "backend"),
        egress=[
            egress_rule(
                [
                    peer(
                        namespaces=match_labels({"env": STAGING}),
                        pods=match_labels({"tier": "backend"}),
                    )
                ],
                [port(GRPC.name), port(HTTP.name)],
            )
        ],
    )


def _same_namespace(context: NamespaceContext, rng: random.Random, name: str) -> Manifest:
    return network_policy(context.name, name, {}, ingress=[ingress_rule([peer(pods={})])])


def _all_namespaces(context: NamespaceContext, rng: random.Random, name: str) -> Manifest:
    return network_policy(
        context.name,
        name,
        _target(context, rng, "frontend"),
        ingress=[
            ingress_rule(
                [peer(namespaces={}, pods=match_labels({"tier": "frontend"}))],
                [port(HTTP.name)],
            )
        ],
    )


def _anyone(context: NamespaceContext, rng: random.Random, name: str) -> Manifest:
    return network_policy(
        context.name,
        name,
        _target(context, rng, "frontend"),
        ingress=[ingress_rule(None, [port(8080), port(8443)])],
    )


def _cluster_network(context: NamespaceContext, rng: random.Random, name: str) -> Manifest:
    excluded = f"10.{rng.randrange(256)}.0.0/16"
    return network_policy(
        context.name,
        name,
        _target(context, rng, "backend"),
        ingress=[
            ingress_rule(
                [ip_block("10.0.0.0/8", (excluded,))],
                [port(8000, "TCP", end=8999), port(8125, "UDP")],
            )
        ],
    )


def _egress_to_prod(context: NamespaceContext, rng: random.Random, name: str) -> Manifest:
    # Allowed on the egress side; prod's ingress policies are what keep the flow out.
    return network_policy(
        context.name,
        name,
        _target(context, rng, "backend"),
        egress=[egress_rule([peer(namespaces=match_labels({"env": PROD}))], [port(443)])],
    )


def _egress_statsd(context: NamespaceContext, rng: random.Random, name: str) -> Manifest:
    return network_policy(
        context.name,
        name,
        match_expressions(expression("tier", "Exists")),
        egress=[egress_rule([ip_block("10.0.0.0/8")], [port(8125, "UDP")])],
    )


SAFE_INGRESS: tuple[tuple[str, Filler], ...] = (
    ("allow-metrics", _metrics_from_monitoring),
    ("allow-partner", _partner),
    ("allow-team-backends", _team_backends),
    ("allow-batch", _batch_jobs),
    ("allow-operators", _operators),
)
"""Fillers whose peers never include an env=dev pod, and that never select a database."""
SAFE_EGRESS: tuple[tuple[str, Filler], ...] = (
    ("allow-egress-internet", _egress_internet),
    ("allow-egress-staging", _egress_staging_apis),
)
LOOSE_INGRESS: tuple[tuple[str, Filler], ...] = (
    ("allow-same-namespace", _same_namespace),
    ("allow-all-namespaces", _all_namespaces),
    ("allow-anyone", _anyone),
    ("allow-cluster-network", _cluster_network),
)
LOOSE_EGRESS: tuple[tuple[str, Filler], ...] = (
    ("allow-egress-prod", _egress_to_prod),
    ("allow-egress-statsd", _egress_statsd),
)


def fillers(context: NamespaceContext, rng: random.Random) -> Iterator[Manifest]:
    """Endless extra policies for the namespace, each with a fresh name."""
    kinds = list(SAFE_INGRESS)
    if context.isolates_egress:
        kinds += SAFE_EGRESS
    if not context.prod:
        kinds += LOOSE_INGRESS
        if context.isolates_egress:
            kinds += LOOSE_EGRESS
    counter = 0
    while True:
        counter += 1
        prefix, make = rng.choice(kinds)
        yield make(context, rng, f"{prefix}-{counter}")


def namespace_policies(
    context: NamespaceContext, budget: int, rng: random.Random
) -> list[Manifest]:
    """The first `budget` of: the baseline (default denies), the first stack's policies,
    then the other stacks' policies alternating with fillers."""
    chosen = baseline_policies(context, rng)
    stack_queue = [policy for stack in context.stacks for policy in stack_policies(context, stack)]
    first = len(stack_policies(context, context.stacks[0])) if context.stacks else 0
    chosen += stack_queue[:first]
    extra = fillers(context, rng)
    rest = iter(stack_queue[first:])
    turn = 0
    while len(chosen) < budget:
        turn += 1
        following = next(rest, None) if turn % 2 else None
        chosen.append(following if following is not None else next(extra))
    return chosen[:budget]
