"""What every check needs: the cluster, where things are written, endpoints of the existing
pods, its rules, and (built on first use) the Z3 encoding and a solver with its domain
asserted."""

from collections.abc import Callable, Iterable, Iterator
from functools import cached_property
from typing import TypeVar, cast

import z3

from netverify.encoding.cluster import ClusterEncoding
from netverify.encoding.solver import SolverLimits, make_solver
from netverify.engine.podbits import PodBits, bits_to_indices
from netverify.model import (
    Direction,
    Endpoint,
    LoadedCluster,
    Namespace,
    NetworkPolicy,
    ObjectRef,
    Pod,
    PodEndpoint,
    PolicyPeer,
    PolicyRule,
    RuleRef,
    Settings,
    SourceSpan,
    network_policy_ref,
    pod_at_first_address,
)
from netverify.semantics.addresses import AddressChoices, mentioned_networks

T = TypeVar("T")

RuleSite = tuple[NetworkPolicy, Direction, int, PolicyRule]
"""A rule with where it sits: its policy, direction and index."""


class LintContext:
    def __init__(self, loaded: LoadedCluster, settings: Settings, limits: SolverLimits) -> None:
        self.loaded = loaded
        self.cluster = loaded.cluster
        self.sources = loaded.sources
        self.settings = settings
        self.limits = limits
        self.namespaces: dict[str, Namespace] = {ns.name: ns for ns in self.cluster.namespaces}
        self._selected: dict[int, list[PodEndpoint]] = {}
        self._by_namespace: dict[str, list[NetworkPolicy]] = {}
        self._admits: dict[tuple[int, int, Direction], z3.BoolRef] = {}
        self.peer_samples: dict[tuple[str, str], list[Endpoint]] = {}
        """A few existing pods each peer (of a policy in a namespace) matches."""
        self.peer_problems: dict[tuple[str, str], str | None] = {}
        """What is wrong with a peer of a policy in a namespace (NVL002), by peer."""
        self._memo: dict[Callable[[LintContext], object], object] = {}

    def memo(self, compute: Callable[["LintContext"], T]) -> T:
        """`compute(self)`, computed once per run: a result that several checks share."""
        if compute not in self._memo:
            self._memo[compute] = compute(self)
        return cast(T, self._memo[compute])

    @cached_property
    def pods(self) -> list[PodEndpoint]:
        """Every existing pod as an endpoint at its first known address."""
        return [
            pod_at_first_address(self.namespaces[pod.namespace], pod) for pod in self.cluster.pods
        ]

    @cached_property
    def addresses(self) -> AddressChoices:
        """Where a pod without a known address is tried: one address per stretch of the
        pod CIDRs that the policies' CIDRs cut (`semantics.addresses`). A check on existing
        pods that holds at none of them or at all of them holds for the pod."""
        return AddressChoices(self.settings, mentioned_networks(self.cluster))

    @cached_property
    def unplaced_pods(self) -> list[Pod]:
        """The existing pods no pod of the encoding stands for, in `pods` order: those with
        a known address outside the pod CIDRs (a pod that could exist has an address only
        in them, and none without them) and the host-network ones (a pod that could exist
        is never one). A check that needs a flow end to be matched both by its namespace or
        labels and by its address cannot find such a pod in the encoding."""
        return [
            pod
            for pod in self.cluster.pods
            if pod.host_network
            or any(
                not any(
                    ip in cidr for cidr in self.settings.pod_cidrs if ip.version == cidr.version
                )
                for ip in pod.ips
            )
        ]

    @cached_property
    def pods_by_namespace(self) -> dict[str, list[PodEndpoint]]:
        grouped: dict[str, list[PodEndpoint]] = {}
        for endpoint in self.pods:
            grouped.setdefault(endpoint.pod.namespace, []).append(endpoint)
        return grouped

    @cached_property
    def pod_bits(self) -> PodBits:
        """Bit i for `pods[i]`: which existing pods each selector matches."""
        return PodBits([endpoint.pod for endpoint in self.pods], self.cluster.namespaces)

    def selected(self, policy: NetworkPolicy) -> list[PodEndpoint]:
        """The existing pods the policy selects."""
        key = id(policy)
        if key not in self._selected:
            bits = self.pod_bits.policy_bits(policy.namespace, policy.pod_selector)
            self._selected[key] = self.pods_of(bits)
        return self._selected[key]

    def peer_pods(self, peer: PolicyPeer, namespace: str) -> list[PodEndpoint]:
        """The existing pods a peer without an ipBlock, of a policy in `namespace`, matches,
        in `pods` order."""
        return self.pods_of(self.pod_bits.peer_bits(peer, namespace))

    def pods_of(self, bits: int) -> list[PodEndpoint]:
        return [self.pods[index] for index in bits_to_indices(bits)]

    def namespace_policies(self, namespace: str) -> list[NetworkPolicy]:
        if not self._by_namespace:
            for policy in self.cluster.policies:
                self._by_namespace.setdefault(policy.namespace, []).append(policy)
        return self._by_namespace.get(namespace, [])

    def rules(
        self,
        policies: Iterable[NetworkPolicy] | None = None,
        direction: Direction | None = None,
        active: bool = False,
    ) -> Iterator[RuleSite]:
        """Every rule of `policies` (default: every policy), policy by policy, egress before
        ingress; only rules of `direction` if given; with `active`, only rules of the
        directions in the policy's policyTypes (the others have no effect)."""
        for policy in self.cluster.policies if policies is None else policies:
            for each in sorted(policy.policy_types if active else Direction):
                if direction is not None and each is not direction:
                    continue
                for index, rule in enumerate(policy.rules(each)):
                    yield policy, each, index, rule

    def admits(self, policy: NetworkPolicy, index: int, direction: Direction) -> z3.BoolRef:
        """The policy selects the subject and its rule `index` admits the symbolic flow."""
        key = (id(policy), index, direction)
        if key not in self._admits:
            self._admits[key] = z3.And(
                self.selects(policy, direction),
                self.encoding.policies.rule_admits(
                    policy, policy.rules(direction)[index], direction
                ),
            )
        return self._admits[key]

    # -- references and positions ---------------------------------------------------------

    @staticmethod
    def policy_ref(policy: NetworkPolicy) -> ObjectRef:
        return network_policy_ref(policy)

    def rule_ref(self, policy: NetworkPolicy, direction: Direction, index: int) -> RuleRef:
        return RuleRef(policy=self.policy_ref(policy), direction=direction, index=index)

    def span_of(self, policy: NetworkPolicy) -> SourceSpan | None:
        return self.sources.of_object(self.policy_ref(policy))

    def rule_span(self, ref: RuleRef) -> SourceSpan | None:
        return self.sources.of_rule(ref)

    def at_rule(self, ref: RuleRef) -> dict[str, object]:
        """The location fields of a finding about one rule: its span, policy and rule."""
        return {"span": self.rule_span(ref), "object": ref.policy, "rule": ref}

    def describe_rule(self, ref: RuleRef, within: ObjectRef | None = None) -> str:
        """`ns/name ingress[0] (file:line)`; a rule of `within` (the policy a finding is
        about, which it names already) without `ns/name`."""
        name = f"{ref.direction.value.lower()}[{ref.index}]"
        if ref.policy != within:
            name = f"{ref.policy.namespace}/{ref.policy.name} {name}"
        span = self.sources.of_rule(ref)
        return f"{name} ({span})" if span is not None else name

    # -- the solver ---------------------------------------------------------------------------

    @cached_property
    def encoding(self) -> ClusterEncoding:
        """The encoding of the cluster without its pods: every endpoint is a pod that could
        exist or an external address. That covers the existing pods: a pod that could exist
        with an existing pod's namespace and labels, or an external address at its IP, is
        matched by every peer that matches the existing pod, and by no other peer (which
        keeps the proofs sound), and the domain stays small however many pods there are.
        No one endpoint is both, though: a check that needs an existing pod matched by its
        labels and by its address at once minds `unplaced_pods`."""
        return ClusterEncoding(self.cluster.model_copy(update={"pods": ()}), self.settings)

    def selects(self, policy: NetworkPolicy, direction: Direction) -> z3.BoolRef:
        """The policy selects the subject of `direction` (the destination for ingress)."""
        key = (id(policy), -1, direction)
        if key not in self._admits:
            flow = self.encoding.flow
            subject = flow.destination if direction is Direction.INGRESS else flow.source
            self._admits[key] = self.encoding.policies.policy_selects(policy, subject)
        return self._admits[key]

    @cached_property
    def solver(self) -> z3.Solver:
        """A solver over every pod that could exist (and external addresses)."""
        solver = make_solver(self.limits)
        solver.add(self.encoding.domain)
        return solver

    def satisfiable(self, *terms: z3.BoolRef) -> bool | None:
        """True (sat), False (unsat) or None (unknown), leaving the solver as it was."""
        self.solver.push()
        try:
            self.solver.add(*terms)
            outcome = self.solver.check()
        finally:
            self.solver.pop()
        if outcome == z3.unknown:
            return None
        return bool(outcome == z3.sat)
