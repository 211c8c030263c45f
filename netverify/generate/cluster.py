"""Synthetic clusters for tests and benchmarks: namespaces, pods, workloads and policies.

Everything is drawn from one `random.Random(seed)` in a fixed order, so the same options give
the same cluster. The planted leak (`leak=True`) is added after every draw, so a cluster with
the leak differs from the one without by exactly one ingress rule.
"""

import random
from dataclasses import dataclass, field

from netverify.generate.catalogue import (
    APPS,
    DATABASES,
    DB_METRICS,
    DEV,
    DIAMETER,
    DNS_METRICS,
    DNS_TCP,
    DNS_UDP,
    ENVIRONMENTS,
    GRPC,
    HASH_ALPHABET,
    HTTP,
    ISOLATE_EGRESS_ODDS,
    KUBE_DNS_LABELS,
    KUBE_SYSTEM,
    MEMCACHE,
    METRICS,
    MONITORING,
    POD_NETWORK_PREFIX,
    PROD,
    PROMETHEUS_LABELS,
    PROMETHEUS_WEB,
    STAGING,
    TEAMS,
    VERSIONS,
)
from netverify.generate.objects import (
    Manifest,
    NamedPort,
    ingress_rule,
    match_labels,
    namespace,
    peer,
    pod,
    port,
    workload,
)
from netverify.generate.policies import (
    DEFAULT_DENY_INGRESS,
    LEAK_PORT,
    NamespaceContext,
    Stack,
    namespace_policies,
)

FIXED_NAMESPACES = (KUBE_SYSTEM, MONITORING)
FIXED_PODS = 2
"""kube-dns in kube-system and Prometheus in monitoring."""
MIN_NAMESPACES = len(FIXED_NAMESPACES) + 2
"""The fixed namespaces plus at least one prod and one dev namespace."""


@dataclass(frozen=True)
class GeneratorOptions:
    """What to generate. `pods` counts bare Pods and workloads together."""

    namespaces: int
    pods: int
    policies: int
    seed: int = 0
    leak: bool = False

    def problems(self) -> list[str]:
        """Why these options cannot be generated (empty when they can)."""
        found = []
        if self.namespaces < MIN_NAMESPACES:
            found.append(
                f"--namespaces must be at least {MIN_NAMESPACES} (kube-system, monitoring, "
                "one prod and one dev namespace)"
            )
        app_namespaces = max(self.namespaces - len(FIXED_NAMESPACES), 0)
        if self.pods < app_namespaces + FIXED_PODS:
            found.append(
                f"--pods must be at least {app_namespaces + FIXED_PODS} (one per application "
                "namespace, plus kube-dns and Prometheus)"
            )
        prod = len(_environments(self.namespaces, self.seed)[0]) if not found else 0
        if self.policies < prod:
            found.append(
                f"--policies must be at least {prod}: each of the {prod} prod namespaces "
                "gets a default-deny ingress policy"
            )
        return found


@dataclass
class NamespacePlan:
    """One generated namespace and what was put in it."""

    context: NamespaceContext
    workloads: list[Manifest] = field(default_factory=list)
    pods: list[Manifest] = field(default_factory=list)
    policies: list[Manifest] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.context.name

    @property
    def env(self) -> str:
        return self.context.env

    @property
    def policy_names(self) -> set[str]:
        return {policy["metadata"]["name"] for policy in self.policies}

    @property
    def has_egress_policies(self) -> bool:
        return any("Egress" in policy["spec"]["policyTypes"] for policy in self.policies)

    @property
    def pod_names(self) -> list[str]:
        return [item["metadata"]["name"] for item in self.workloads + self.pods]


@dataclass(frozen=True)
class LeakSite:
    """Where the planted leak is: one ingress rule admitting every env=dev pod."""

    namespace: str
    policy: str
    rule_index: int
    port: int = LEAK_PORT


@dataclass
class GeneratedCluster:
    """The cluster as per-namespace plans, in the order the files list them."""

    options: GeneratorOptions
    namespaces: list[Manifest]
    system_workloads: list[Manifest]
    plans: list[NamespacePlan]
    open_dev_namespace: str
    """A dev namespace with no egress policy: its pods, existing or new, can send anywhere."""
    leak: LeakSite | None = None

    @property
    def workloads(self) -> list[Manifest]:
        return self.system_workloads + [w for plan in self.plans for w in plan.workloads]

    @property
    def pods(self) -> list[Manifest]:
        return [p for plan in self.plans for p in plan.pods]

    @property
    def policies(self) -> list[Manifest]:
        return [p for plan in self.plans for p in plan.policies]


def _environments(namespaces: int, seed: int) -> tuple[list[int], list[str]]:
    """The environment of each application namespace (the first two are prod and dev), and
    the indexes of the prod ones. Drawn from its own generator so that option checks can
    count prod namespaces without generating anything else."""
    rng = random.Random(f"environments-{seed}")
    count = max(namespaces - len(FIXED_NAMESPACES), 0)
    names = [env for env, _ in ENVIRONMENTS]
    weights = [weight for _, weight in ENVIRONMENTS]
    envs = [PROD, DEV, STAGING][:count]
    envs += rng.choices(names, weights, k=count - len(envs))
    return [i for i, env in enumerate(envs) if env == PROD], envs


def _split(rng: random.Random, total: int, weights: list[float], minimums: list[int]) -> list[int]:
    """`total` split in proportion to `weights`, each share at least its minimum."""
    shares = list(minimums)
    rest = total - sum(minimums)
    assert rest >= 0
    weight_sum = sum(weights) or 1.0
    for index, weight in enumerate(weights):
        shares[index] += int(rest * weight / weight_sum)
    order = list(range(len(shares)))
    rng.shuffle(order)
    for step in range(total - sum(shares)):
        shares[order[step % len(order)]] += 1
    return shares


class _Addresses:
    """Distinct pod addresses in 10.0.0.0/8, increasing with small random gaps."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._next = POD_NETWORK_PREFIX + rng.randint(1, 250)

    def take(self) -> str:
        number = self._next
        self._next += self._rng.randint(1, 8)
        assert number < POD_NETWORK_PREFIX + (1 << 24), "pod network exhausted"
        return ".".join(str((number >> shift) & 255) for shift in (24, 16, 8, 0))


def _suffix(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(HASH_ALPHABET) for _ in range(length))


def _ports(tier: str, stack: Stack) -> tuple[NamedPort, ...]:
    match tier:
        case "frontend":
            return (HTTP, METRICS)
        case "backend":
            return (GRPC, HTTP, METRICS)
        case "db":
            return (stack.database, DB_METRICS)
        case "cache":
            return (MEMCACHE, METRICS)
        case _:
            return (DIAMETER, METRICS)


IMAGES = {
    "frontend": "nginx:1.27",
    "backend": "registry.example.com/{app}:{version}",
    "cache": "memcached:1.6",
    "signaling": "registry.example.com/diameter-proxy:2.3",
}


def _stack_workloads(ns: str, stack: Stack, rng: random.Random) -> list[Manifest]:
    tiers = ["frontend", "backend", "db"]
    tiers += ["cache"] if stack.cache else []
    tiers += ["signaling"] if stack.signaling else []
    made = []
    for tier in tiers:
        labels = {**stack.labels(tier), "version": stack.version}
        kind = "StatefulSet" if tier in ("db", "signaling") else "Deployment"
        if tier == "db":
            image = stack.database_image
        else:
            image = IMAGES[tier].format(app=stack.app, version=stack.version)
        replicas = 1 if kind == "StatefulSet" else rng.randint(2, 6)
        made.append(
            workload(kind, ns, stack.name(tier), labels, image, _ports(tier, stack), replicas)
        )
    return made


def _stacks(rng: random.Random, budget: int) -> list[Stack]:
    """Stacks taking about 70% of the namespace's pod budget (bare pods take the rest)."""
    apps = list(APPS)
    rng.shuffle(apps)
    stacks: list[Stack] = []
    used = 0
    target = round(budget * 0.7)
    while True:
        database, image = rng.choice(DATABASES)
        candidate = Stack(
            app=apps[len(stacks) % len(apps)]
            + (str(len(stacks) // len(apps) + 1) if len(stacks) >= len(apps) else ""),
            version=rng.choice(VERSIONS),
            database=database,
            database_image=image,
            cache=rng.random() < 0.3,
            signaling=rng.random() < 0.1,
        )
        size = 3 + candidate.cache + candidate.signaling
        if used + size > max(target, 3) or used + size > budget:
            return stacks
        stacks.append(candidate)
        used += size


def _bare_pods(
    plan: NamespacePlan, count: int, rng: random.Random, addresses: _Addresses
) -> list[Manifest]:
    """Running pods: replicas of the stacks' frontends (and, outside prod, backends),
    migration jobs and debug pods. No bare prod pod is a backend, so none can reach a prod
    database (bare pods have addresses, so they count as `ip: 0.0.0.0/0` sources)."""
    stacks = plan.context.stacks
    tiers = ("frontend",) if plan.context.prod else ("frontend", "backend")
    seen = set(plan.pod_names)
    made: list[Manifest] = []
    while len(made) < count:
        draw = rng.random()
        labels: dict[str, str]
        if stacks and draw < 0.6:
            stack = rng.choice(stacks)
            tier = rng.choice(tiers)
            template = _suffix(rng, 10)
            name = f"{stack.name(tier)}-{template}-{_suffix(rng, 5)}"
            labels = {**stack.labels(tier), "version": stack.version}
            labels["pod-template-hash"] = template
            ports = _ports(tier, stack)
            image = IMAGES[tier].format(app=stack.app, version=stack.version)
        elif draw < 0.85:
            app = rng.choice(stacks).app if stacks else "batch"
            name = f"{app}-migrate-{_suffix(rng, 5)}"
            labels = {"app": app, "tier": "job", "job-name": name.rsplit("-", 1)[0]}
            ports, image = (), f"registry.example.com/{app}-migrations:latest"
        else:
            name = f"debug-{_suffix(rng, 5)}"
            labels, ports, image = {"run": "debug"}, (), "busybox:1.36"
        if name in seen:
            continue
        seen.add(name)
        made.append(pod(plan.name, name, labels, image, ports, addresses.take()))
    return made


def _system() -> tuple[list[Manifest], list[Manifest]]:
    namespaces = [
        namespace(KUBE_SYSTEM, {"team": "platform"}),
        namespace(MONITORING, {"env": "ops", "team": "platform"}),
    ]
    workloads = [
        workload(
            "Deployment",
            KUBE_SYSTEM,
            "coredns",
            dict(KUBE_DNS_LABELS),
            "registry.k8s.io/coredns/coredns:v1.11.1",
            (DNS_UDP, DNS_TCP, DNS_METRICS),
            2,
        ),
        workload(
            "Deployment",
            MONITORING,
            "prometheus",
            dict(PROMETHEUS_LABELS),
            "prom/prometheus:v2.53.0",
            (PROMETHEUS_WEB,),
            1,
        ),
    ]
    return namespaces, workloads


def generate_cluster(options: GeneratorOptions) -> GeneratedCluster:
    """The cluster for `options`; raises `ValueError` when `options.problems()` is not empty."""
    if problems := options.problems():
        raise ValueError("; ".join(problems))
    rng = random.Random(options.seed)
    prod_indexes, envs = _environments(options.namespaces, options.seed)
    namespaces, system_workloads = _system()
    width = len(str(len(envs)))
    teams = [rng.choice(TEAMS) for _ in envs]
    names = [
        f"{team}-{env}-{i:0{width}d}" for i, (team, env) in enumerate(zip(teams, envs, strict=True))
    ]
    for name, env, team in zip(names, envs, teams, strict=True):
        namespaces.append(namespace(name, {"env": env, "team": team}))

    pod_weights = [rng.uniform(0.5, 1.5) for _ in envs]
    pod_budgets = _split(rng, options.pods - FIXED_PODS, pod_weights, [1] * len(envs))
    policy_minimums = [1 if env == PROD else 0 for env in envs]
    policy_budgets = _split(rng, options.policies, [float(b) for b in pod_budgets], policy_minimums)
    open_dev = envs.index(DEV)
    addresses = _Addresses(rng)
    plans = []
    for index, (name, env, team) in enumerate(zip(names, envs, teams, strict=True)):
        stacks = tuple(_stacks(rng, pod_budgets[index]))
        isolates_egress = index != open_dev and rng.random() < ISOLATE_EGRESS_ODDS[env]
        context = NamespaceContext(
            name=name, env=env, team=team, stacks=stacks, isolates_egress=isolates_egress
        )
        plan = NamespacePlan(context=context)
        for stack in stacks:
            plan.workloads += _stack_workloads(name, stack, rng)
        plan.pods = _bare_pods(plan, pod_budgets[index] - len(plan.workloads), rng, addresses)
        plan.policies = namespace_policies(context, policy_budgets[index], rng)
        plans.append(plan)
    generated = GeneratedCluster(
        options=options,
        namespaces=namespaces,
        system_workloads=system_workloads,
        plans=plans,
        open_dev_namespace=names[open_dev],
    )
    if options.leak:
        generated.leak = _plant_leak(plans[prod_indexes[0]])
    return generated


def _plant_leak(plan: NamespacePlan) -> LeakSite:
    """Append one ingress rule admitting every pod of env=dev namespaces on TCP 8080: to the
    first application's backend policy when it exists, else to the default deny."""
    by_name = {policy["metadata"]["name"]: policy for policy in plan.policies}
    stacks = plan.context.stacks
    target = stacks[0].name("backend-ingress") if stacks else DEFAULT_DENY_INGRESS
    policy = by_name.get(target) or by_name[DEFAULT_DENY_INGRESS]
    rules = policy["spec"].setdefault("ingress", [])
    rules.append(
        ingress_rule([peer(namespaces=match_labels({"env": DEV}))], [port(LEAK_PORT)]),
    )
    return LeakSite(
        namespace=plan.name, policy=policy["metadata"]["name"], rule_index=len(rules) - 1
    )
