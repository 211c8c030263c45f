"""A cluster as Z3 terms: one symbolic flow, the constraints that make it a real flow, and
the formula of "this flow is allowed" that means exactly what the reference evaluator means.

Every side of a flow is decided by an ordered list of policy layers (as in
`netverify.semantics.evaluator`): the first layer that has an opinion decides, and a side no
layer has an opinion on is allowed. Today the only layer is NetworkPolicy.
"""

from collections.abc import Iterable, Sequence
from copy import copy
from functools import cached_property

import z3

from netverify.encoding.admin import AdminEncoding
from netverify.encoding.classes import PodClass, is_single_pod, pod_classes, pod_identity
from netverify.encoding.domain import FlowDomain
from netverify.encoding.policies import PolicyEncoding, namespace_is
from netverify.encoding.remembered import Remembered, remembered
from netverify.encoding.smtlib import assertions_text, conjunction, literal, parse_text, symbol
from netverify.encoding.solver import fresh_context
from netverify.encoding.terms import (
    SymbolicEndpoint,
    SymbolicFlow,
    protocol_code,
    symbolic_flow,
)
from netverify.encoding.universe import (
    Universe,
    build_universe,
)
from netverify.model import (
    Cluster,
    EndpointPattern,
    Invariant,
    NetworkPolicy,
    Pod,
    Protocol,
    Settings,
)
from netverify.semantics.admin import has_nodes_peers


def pattern_names_pod(pattern: EndpointPattern, pod: Pod) -> bool:
    """Whether an invariant endpoint names this pod (by namespace, name and maybe kind)."""
    return (
        pattern.pod_name == pod.name
        and pattern.namespace_name == pod.namespace
        and (pattern.pod_kind is None or pattern.pod_kind == pod.kind)
    )


class ClusterEncoding:
    """The shared encoding of one cluster, built once and queried by every invariant."""

    def __init__(
        self,
        cluster: Cluster,
        settings: Settings,
        invariants: Sequence[Invariant] = (),
        universe: Universe | None = None,
        by_node: bool = False,
        whole: Cluster | None = None,
    ) -> None:
        """`universe` is given when several clusters share one (a diff); by default it is
        what this cluster's policies and the invariants mention. Host-network pods are
        classed by node when `by_node` (another revision's `nodes` peers tell nodes apart)
        or this cluster's `nodes` peers do. `whole` is given when `cluster` is a slice of
        it (`netverify.engine.slicing`): the addresses of its pods and Services stay
        taken, though only the slice's pods can be endpoints."""
        fresh_context()
        self.cluster = cluster
        self.whole = whole or cluster
        self.settings = settings
        self.universe: Universe = universe or build_universe(
            [cluster], invariants, settings.pod_cidrs
        )
        named = [
            pattern
            for invariant in invariants
            for pattern in (invariant.source, invariant.destination)
            if pattern.pod_name is not None
        ]
        pinned = {
            pod_identity(pod)
            for pod in cluster.pods
            if any(pattern_names_pod(p, pod) for p in named)
        }
        self.classes: list[PodClass] = pod_classes(
            cluster.pods, self.universe, pinned, by_node=by_node or has_nodes_peers(cluster)
        )
        self.singleton_classes = sum(
            1 for pod_class in self.classes if is_single_pod(pod_class.pods)
        )
        self.flow: SymbolicFlow = symbolic_flow(self.universe)
        self.policies = PolicyEncoding(cluster.policies, self.universe, self.flow, settings)
        self.admin = (
            AdminEncoding(cluster, self.classes, self.policies) if cluster.admin_policies else None
        )

    def with_policies(
        self, policies: Sequence[NetworkPolicy], whole: Cluster | None = None
    ) -> "ClusterEncoding":
        """This encoding (universe, pod classes, flow, domain, Z3 context) over other
        NetworkPolicies, for a cluster that differs from this one in nothing else (`fix`'s
        candidates): the same as a fresh encoding when the policies mention nothing outside
        the universe, which the caller checks. Not for clusters with admin policies.
        `whole`: the cluster with those policies that this one's slice is of (replay is
        about it), when it is a slice."""
        assert self.admin is None
        if self.policies.admits_memo is None:
            self.policies.admits_memo = {}
        other = copy(self)
        other.cluster = self.cluster.model_copy(update={"policies": tuple(policies)})
        other.whole = self.whole if whole is None else whole
        other.policies = PolicyEncoding(
            policies,
            self.universe,
            self.flow,
            self.settings,
            memo=self.policies.memo,
            admits_memo=self.policies.admits_memo,
        )
        other.__dict__.pop("allowed", None)
        return other

    # -- small term builders -------------------------------------------------------------

    def namespace_is(self, endpoint: SymbolicEndpoint, name: str) -> z3.BoolRef:
        return namespace_is(self.universe, endpoint, name)

    def has_named_port(self, name: str, protocols: Iterable[Protocol]) -> z3.BoolRef:
        return self.policies.has_named_port(name, protocols)

    def class_is(self, endpoint: SymbolicEndpoint, pod_class: PodClass) -> z3.BoolRef:
        return endpoint.pod_class == pod_class.index

    # -- what makes the symbolic flow a flow -----------------------------------------------

    @cached_property
    def domain(self) -> z3.BoolRef:
        """Constraints every flow satisfies, whatever the invariant's scope."""
        domain = FlowDomain(
            self.cluster,
            self.whole,
            self.settings,
            self.universe,
            self.classes,
            self.flow,
            self.remembered,
        )
        terms = domain.flow_terms()
        if self.node_local_possible:
            terms += domain.node_terms()
        if self.settings.pod_cidrs:
            terms += domain.distinct_addresses(self.self_traffic)
        return conjunction(terms)

    @cached_property
    def remembered(self) -> Remembered:
        """What the domain and `declared_port` work out of their inputs, shared with the
        encodings that read the same (`netverify.encoding.remembered`): the universe's
        mentions, the settings, the namespaces, the pod classes and the whole cluster's pods
        and Services (whose addresses are taken). Classes, pods and Services are known by
        identity: `fix`'s candidates share them (`pod_classes` hands the same pods the same
        classes), and comparing thousands by value would cost what remembering saves."""
        whole = self.whole
        namespaces = tuple(
            (namespace.name, tuple(sorted(namespace.labels.items())))
            for namespace in self.cluster.namespaces
        )
        return remembered(
            (
                self.universe.mentions(),
                self.settings,
                namespaces,
                tuple(map(id, self.classes)),
                tuple(map(id, whole.pods)),
                tuple(map(id, whole.services)),
            ),
            held=(tuple(self.classes), whole.pods, whole.services),
        )

    @cached_property
    def node_local_possible(self) -> bool:
        """Whether some flow can be node-local: only with a hostNetwork pod loaded (pods
        that could exist never use hostNetwork). Without one, `flow.same_node` is left out
        of every formula and decodes as False."""
        return any(pod_class.host_network for pod_class in self.classes)

    @cached_property
    def declared_port(self) -> z3.BoolRef | None:
        """The flow's protocol and port are a containerPort of its destination, an existing
        pod (None when no loaded pod declares a port). Built once per encoding, and as
        SMT-LIB text (`netverify.encoding.smtlib`): a disjunct per class that declares ports,
        thousands on a large cluster, each with its ports."""
        text = self.remembered.value(("declared port",), self._declared_port_text)
        if text is None:
            return None
        flow = self.flow
        (term,) = parse_text(text, [flow.destination.pod_class, flow.protocol, flow.port])
        return term

    def _declared_port_text(self) -> str | None:
        """`declared_port` as `parse_text` takes it."""
        flow = self.flow
        destination, protocol, port = (
            symbol(flow.destination.pod_class),
            symbol(flow.protocol),
            symbol(flow.port),
        )
        options = []
        for pod_class in self.classes:
            declared = sorted({(p.protocol, p.port) for pod in pod_class.pods for p in pod.ports})
            if declared:
                ports = " ".join(
                    f"(and (= {protocol} {literal(protocol_code(code))}) (= {port} {literal(n)}))"
                    for code, n in declared
                )
                options.append(f"(and (= {destination} {literal(pod_class.index)}) (or {ports}))")
        if not options:
            return None
        return assertions_text([f"(or {' '.join(options)})"])

    # -- scopes ----------------------------------------------------------------------------

    def existing_pod(self, endpoint: SymbolicEndpoint) -> z3.BoolRef:
        """The endpoint, if a pod, is one of the loaded pods."""
        return z3.Implies(endpoint.is_pod, endpoint.pod_class >= 0)

    def existing_namespace(self, endpoint: SymbolicEndpoint) -> z3.BoolRef:
        """The endpoint, if a pod, runs in one of the loaded (or implied) namespaces."""
        return z3.Implies(
            endpoint.is_pod,
            z3.Or([self.namespace_is(endpoint, ns.name) for ns in self.cluster.namespaces]),
        )

    @cached_property
    def self_traffic(self) -> z3.BoolRef:
        """Both ends are the same existing pod (a pod's traffic to itself)."""
        source, destination = self.flow.source, self.flow.destination
        return z3.And(
            source.is_pod,
            destination.is_pod,
            source.pod_class >= 0,
            source.pod_class < self.singleton_classes,
            source.pod_class == destination.pod_class,
        )

    @cached_property
    def allowed(self) -> z3.BoolRef:
        """The symbolic flow is allowed: egress at the source and ingress at the destination
        (or it is a pod's traffic to itself, or node-local traffic). With admin policies
        whose order the API leaves open: allowed in some order (see `blocked`)."""
        if self.admin is not None:
            return self._admin_verdict(allowed=True)
        if self.node_local_possible:
            return z3.Or(self.self_traffic, self.flow.same_node, self.policies.allowed)
        return z3.Or(self.self_traffic, self.policies.allowed)

    @property
    def blocked(self) -> z3.BoolRef:
        """The symbolic flow is blocked (in some order of the admin policies the API leaves
        open; without such policies, exactly not `allowed`)."""
        # NOTE: built afresh per query, as before admin tiers: the order terms are built in
        # steers which of many equally good flows the solver returns.
        if self.admin is not None:
            return self._admin_blocked
        return z3.Not(self.allowed)

    @cached_property
    def _admin_blocked(self) -> z3.BoolRef:
        return self._admin_verdict(allowed=False)

    def _admin_verdict(self, allowed: bool) -> z3.BoolRef:
        assert self.admin is not None
        same_node = self.flow.same_node if self.node_local_possible else None
        return self.admin.flow_verdict(allowed, self.self_traffic, same_node)
