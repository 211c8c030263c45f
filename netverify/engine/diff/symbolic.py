"""Both revisions as Z3 terms over one symbolic flow, and the solvers that ask about them.

One encoding of the merged cluster (HEAD plus what only BASE has) carries one symbolic flow;
each namespace has each revision's own labels, and each revision's policies are a formula of
"allowed". The search solver holds the flows the diff is about where a change can be; the
`checker` holds the same flows without the "changed" assertions, to ask whether every flow of
a product of groups changed.
"""

from dataclasses import dataclass, replace
from enum import Enum
from functools import cached_property

import z3

from netverify.encoding.admin import AdminEncoding, on_node_choice
from netverify.encoding.capi import at_least, conj, disj, equals, negate
from netverify.encoding.cluster import ClusterEncoding
from netverify.encoding.decode import decode_flow
from netverify.encoding.groups import GroupKey, GroupTerms
from netverify.encoding.policies import PolicyEncoding, namespace_is
from netverify.encoding.solver import SolverLimits, make_solver
from netverify.encoding.terms import SymbolicEndpoint, SymbolicFlow, protocol_code
from netverify.encoding.universe import build_universe
from netverify.engine.diff.cells import CellRegion, ExternalCells, cell_region, taken_addresses
from netverify.engine.diff.revisions import ChangedFlow, Revisions
from netverify.engine.tierbits import order_open
from netverify.invariants import matching_flow
from netverify.model import (
    NAMESPACE_NAME_LABEL,
    Cluster,
    Flow,
    Invariant,
    InvariantKind,
    NamespaceScope,
    PodScope,
    Protocol,
)
from netverify.model.diff import Change
from netverify.semantics.admin import has_nodes_peers, selects_every_node
from netverify.semantics.patterns import endpoint_matches


class Undecided(Enum):
    """The solver gave up (a time or resource limit)."""

    UNDECIDED = "undecided"


class SymbolicDiff:
    """The two-revision Z3 set-up: it exists so that the search and the grouping ask the
    solver about groups of flows without knowing how BASE's labels, the scope and the
    "where a change can be" pruning were encoded."""

    def __init__(
        self,
        revisions: Revisions,
        pods: PodScope,
        namespaces: NamespaceScope,
        limits: SolverLimits,
        within: Invariant | None = None,
        encoded: Revisions | None = None,
    ) -> None:
        """`within`: only the flows the invariant matches (`prove --all`); the bit sets
        compare flows between classes only for a `forbid` that matches every port of every
        protocol and names no address (`_class_ends`), the solver searches the rest.
        `encoded`: slices of the revisions that decide every flow the diff is about
        (`prove --all` on a slice): only their pods and policies are encoded, in the
        revisions' universe, so that their classes and address cells are the revisions'
        own restricted to the slices' pods; the revisions' pods' addresses stay taken."""
        self.revisions, self.pods, self.limits = revisions, pods, limits
        settings = revisions.settings
        invariants = () if within is None else (within,)
        universe = build_universe(
            [revisions.merged, revisions.base], invariants, settings.pod_cidrs
        )
        sliced = encoded or revisions
        base, merged = sliced.base, sliced.merged
        self.encoding = ClusterEncoding(
            merged,
            settings,
            invariants,
            universe=universe,
            by_node=has_nodes_peers(revisions.base),
            whole=revisions.merged,
        )
        self.groups = GroupTerms(self.encoding)
        flow = self.encoding.flow
        # Where BASE labels every namespace as HEAD does, both revisions are judged on the
        # same terms, and the policies they share are the same formulas (Z3 shares equal
        # terms): the solver sees one copy of what did not change.
        relabelled = any(
            merged.namespace(namespace.name) != namespace for namespace in base.namespaces
        )
        base_flow = flow
        if relabelled:
            base_flow = SymbolicFlow(
                source=_with_base_namespace_labels(flow.source),
                destination=_with_base_namespace_labels(flow.destination),
                protocol=flow.protocol,
                port=flow.port,
                same_node=flow.same_node,
            )
        # NOTE: the bit sets group by admitting rules only: a `require`'s findings, grouped
        # by the policies that isolate them, are the solver's. They do not know admin
        # policies either.
        bit_sets = not revisions.tiered and (
            within is None
            or not (
                within.kind is not InvariantKind.FORBID
                or within.ports
                or within.source.ip
                or within.destination.ip
            )
        )
        self.units = {
            pod_class.index
            for pod_class in self.encoding.classes
            if bit_sets and len(pod_class.address_segments or ()) <= 1
        }
        """Classes whose flows to each other the bit sets compare; the solver searches the
        other flows only."""
        self.class_ends = (-1, -1) if within is None else self._class_ends(within)
        """The classes the bit sets compare flows from and to (-1: every class)."""
        self.cells: CellRegion | None = None
        """The flows between external addresses and existing pods that the bit sets compare
        (the solver searches the others); None with admin policies, within an invariant
        that bit sets cannot tell (`bit_sets`, but for its addresses), or one whose ends
        match no external address."""
        if not revisions.tiered and (
            within is None or (within.kind is InvariantKind.FORBID and not within.ports)
        ):
            region = cell_region(
                self.external_cells, self.encoding.classes, revisions.endpoint, within
            )
            self.cells = region if region.inward or region.outward else None
        self.external_ends = within is None or not within.pods_only
        """Whether a flow of the diff may have an external address at an end."""
        solved = self._solver_namespaces()
        encodings = [
            PolicyEncoding(
                [p for p in cluster.policies if solved is None or p.namespace in solved],
                universe,
                symbolic_flow,
                settings,
            )
            for cluster, symbolic_flow in ((merged, flow), (base, base_flow))
        ]
        self.undetermined: z3.BoolRef | None = None
        """With admin policies whose order the API leaves open: the flows whose change
        depends on that order (None without such policies)."""
        if revisions.tiered:
            head, base_tiers = (
                self._tier_verdict(cluster, policies)
                for cluster, policies in zip((merged, base), encodings, strict=True)
            )
            self.head_allowed, self.head_possibly = head.allowed, head.possibly
            self.base_allowed, self.base_possibly = base_tiers.allowed, base_tiers.possibly
            if head.open or base_tiers.open:
                self.undetermined = z3.And(
                    z3.Or(
                        z3.And(head.possibly, base_tiers.possibly_blocked),
                        z3.And(head.possibly_blocked, base_tiers.possibly),
                    ),
                    z3.Not(z3.Or(*(_changes(*self.now_before(change)) for change in Change))),
                )
        else:
            self.head_allowed, self.base_allowed = (e.allowed for e in encodings)
            self.head_possibly, self.base_possibly = self.head_allowed, self.base_allowed
        flows: list[z3.BoolRef] = [self.encoding.domain, z3.Not(self.encoding.self_traffic)]
        if revisions.tiered:
            flows += self._unknown_nodes_match_no_selector()
        if within is not None:
            flows.append(matching_flow(self.encoding, within))
        for symbolic, base_symbolic in (
            (flow.source, base_flow.source),
            (flow.destination, base_flow.destination),
        ):
            if relabelled:
                flows.append(self._base_namespace_domain(symbolic, base_symbolic))
            if pods is PodScope.EXISTING:
                flows.append(self.encoding.existing_pod(symbolic))
            if namespaces is NamespaceScope.EXISTING:
                flows.append(self.encoding.existing_namespace(symbolic))
        self.flows = flows
        """The flows the diff is about (both revisions' namespace labels, the scope), but a
        pod's traffic to itself, which is allowed whatever the policies say."""
        self.node_local_unchanged = self.encoding.node_local_possible and not revisions.tiered
        """Node-local traffic is allowed in both revisions: no admin policy can block it."""
        self.placed = self.encoding.node_local_possible and revisions.tiered
        """A product's flows are on one placement (`product`): a pair's node-local flows may
        change on other ports than its flows across nodes (an admin Deny of `nodes` blocks
        every port on the node, and a NetworkPolicy rule's port across it)."""
        self.space: list[z3.BoolRef] = [
            *flows[:2],
            *([z3.Not(flow.same_node)] if self.node_local_unchanged else []),
            *flows[2:],
        ]
        """The flows where a change can be: `flows` without node-local traffic where it
        never changes (the order kept: it steers which witnesses the solver finds)."""
        self.solver = make_solver(limits)
        self.solver.add(*self.space, self._where_changes_can_be())
        if self.units:
            self.solver.add(
                negate(conj([self._is_unit(flow.source), self._is_unit(flow.destination)]))
            )
        if self.cells is not None:
            self.solver.add(
                negate(self.cells.term(flow.source, flow.destination, self.encoding.classes))
            )

    @cached_property
    def external_cells(self) -> ExternalCells:
        """The cells of external addresses the search can find, a representative each."""
        revisions = self.revisions
        taken = taken_addresses(revisions.merged)
        return ExternalCells(self.groups, taken, revisions.settings.pod_cidrs)

    def _tier_verdict(self, cluster: Cluster, policies: PolicyEncoding) -> "_TierVerdict":
        """One revision's verdict with its admin tiers around its NetworkPolicies."""
        admin = AdminEncoding(cluster, self.encoding.classes, policies)
        same_node = self.encoding.flow.same_node if self.encoding.node_local_possible else None
        may_allow = admin.flow_verdict(True, self.encoding.self_traffic, same_node)
        if not order_open(cluster.admin_policies):
            return _TierVerdict(may_allow, may_allow, z3.Not(may_allow), open=False)
        may_block = admin.flow_verdict(False, self.encoding.self_traffic, same_node)
        return _TierVerdict(
            allowed=z3.And(may_allow, z3.Not(may_block)),
            possibly=may_allow,
            possibly_blocked=may_block,
            open=True,
        )

    def _class_ends(self, within: Invariant) -> tuple[int, int]:
        """The classes whose pods the invariant's source and destination patterns match (a
        class's pods alike: the encoding's classes tell apart what the invariant selects)."""
        masks = []
        for pattern in (within.source, within.destination):
            masks.append(
                sum(
                    1 << pod_class.index
                    for pod_class in self.encoding.classes
                    if endpoint_matches(pattern, self.revisions.endpoint(pod_class.pods[0]))
                )
            )
        return masks[0], masks[1]

    def _unknown_nodes_match_no_selector(self) -> list[z3.BoolRef]:
        """A host-network pod whose node netverify cannot tell is on no node a `nodes` peer
        selects, as the reference evaluator has it (`tier_assumptions` says so)."""
        selectors = {
            peer.nodes.model_dump_json(): peer.nodes
            for cluster in (self.revisions.base, self.revisions.head)
            for policy in cluster.admin_policies
            for rule in (*policy.ingress, *policy.egress)
            for peer in rule.peers
            if peer.nodes is not None and not selects_every_node(peer.nodes)
        }
        flow = self.encoding.flow
        return [
            z3.Not(on_node_choice(end, selector))
            for selector in selectors.values()
            for end in (flow.source, flow.destination)
        ]

    def _where_changes_can_be(self) -> z3.BoolRef:
        """A changed flow has a pod end in a namespace whose policies or labels changed,
        unless the admin policies or the nodes changed.

        A side's verdict depends only on the admin tiers, the policies of the side's pod's
        namespace and the labels of the namespaces of the two ends; where none changed,
        neither verdict did. Said to the search only (it prunes most of the cluster from
        it), not to the `checker`, which must see unchanged flows.
        """
        if self.revisions.tiers_changed:
            return z3.BoolVal(True)
        flow = self.encoding.flow
        return disj(
            [
                conj([end.is_pod, namespace_is(self.encoding.universe, end, name)])
                for end in (flow.source, flow.destination)
                for name in sorted(self.revisions.changed_namespaces)
            ]
            or [z3.BoolVal(False)]
        )

    def _solver_namespaces(self) -> set[str] | None:
        """The namespaces whose policies the solver must see (None: every namespace).

        Between existing pods, when every class is one of the `units`, the solver is only
        asked about flows between an external address, which no policy governs, and a pod
        of a changed namespace (`_where_changes_can_be`; the groups `odd_flow` asks about
        are of such flows too, as only they change): that namespace's policies decide
        them. A pull request touches a few namespaces: the formulas shrink with it."""
        if (
            self.pods is PodScope.ANY
            or self.revisions.tiered
            or len(self.units) < len(self.encoding.classes)
        ):
            return None
        return self.revisions.changed_namespaces

    def _is_unit(self, end: SymbolicEndpoint) -> z3.BoolRef:
        """The symbolic endpoint is a pod of one of the `units` classes."""
        terms = [end.is_pod, at_least(end.pod_class, 0)]
        others = [c.index for c in self.encoding.classes if c.index not in self.units]
        if others:
            terms.append(negate(disj([equals(end.pod_class, index) for index in others])))
        return conj(terms)

    def _base_namespace_domain(
        self, endpoint: SymbolicEndpoint, base_endpoint: SymbolicEndpoint
    ) -> z3.BoolRef:
        """BASE's labels for namespaces BASE defines; HEAD's labels for every other one."""
        universe = self.encoding.universe.namespace_labels
        in_base = []
        terms = []
        for namespace in self.revisions.base.namespaces:
            named = namespace_is(self.encoding.universe, endpoint, namespace.name)
            in_base.append(named)
            codes = universe.codes(namespace.labels)
            terms.append(
                z3.Implies(
                    named,
                    z3.And(
                        [
                            base_endpoint.namespace_labels[key] == code
                            for key, code in zip(universe.keys, codes, strict=True)
                        ]
                    ),
                )
            )
        same = z3.And(
            [
                base_endpoint.namespace_labels[key] == endpoint.namespace_labels[key]
                for key in universe.keys
            ]
        )
        terms.append(z3.Implies(z3.Not(z3.Or(in_base)), same))
        return z3.And(terms)

    def now_before(self, change: Change) -> tuple[z3.BoolRef, z3.BoolRef]:
        """ "Allowed" where the change says it is now, and "possibly allowed" where it was
        before (the same but for a verdict that depends on an order of admin policies the
        API leaves open: a change is one in every order)."""
        if change is Change.ADDED:
            return self.head_allowed, self.base_possibly
        return self.base_allowed, self.head_possibly

    def undetermined_flow(self) -> Flow | Undecided | None:
        """A flow whose change depends on an order of admin policies the API leaves open;
        None when there is none."""
        if self.undetermined is None:
            return None
        return self._decoded(self.checker, self._where_changes_can_be(), self.undetermined)

    def allowed_in_both(self) -> Flow | Undecided | None:
        """A flow of `flows` (node-local ones included) that both revisions allow in every
        order the API leaves open, so that no change shows it; None when there is none."""
        head, base = self.head_allowed, self.base_allowed
        if self.node_local_unchanged:
            head, base = (z3.Or(allowed, self.encoding.flow.same_node) for allowed in (head, base))
        return self._decoded(self.flow_checker, head, base)

    @cached_property
    def flow_checker(self) -> z3.Solver:
        """A solver over `flows`: the `checker`'s, node-local traffic included."""
        solver = make_solver(self.limits)
        solver.add(*self.flows)
        return solver

    def product(
        self,
        protocol: Protocol,
        same_node: bool,
        sources: list[GroupKey],
        destinations: list[GroupKey],
    ) -> z3.BoolRef:
        """The symbolic flow is on the protocol from one of the sources to one of the
        destinations, on the placement `same_node` says where node-local traffic may change
        (`placed`; else on any, as node-local traffic never changes)."""
        symbolic = self.encoding.flow
        return z3.And(
            symbolic.protocol == protocol_code(protocol),
            *([symbolic.same_node == same_node] if self.placed else []),
            self.groups.any_term(sources, symbolic.source),
            self.groups.any_term(destinations, symbolic.destination),
        )

    def odd_flow(
        self, witness: ChangedFlow, sources: list[GroupKey], destinations: list[GroupKey]
    ) -> Flow | Undecided | None:
        """A flow of the product, on the witness's protocol and placement, that does not
        change on exactly its ports: one that changes outside them (asked of the search,
        which knows where changes can be) or one that does not change on them (asked of the
        `checker`, which sees unchanged flows); None when there is none."""
        now, before = self.now_before(witness.change)
        port = self.encoding.flow.port
        in_ports = z3.Or([z3.And(port >= r.start, port <= r.end) for r in witness.ports])
        named_ports = self.encoding.flow.destination.named_ports
        if witness.excepted:
            taken = []
            for excepted in witness.excepted:
                named = named_ports.get(excepted)
                assert named is not None, "a new pod's named port is one the policies name"
                taken.append(z3.And(named.defined, port == named.number))
            in_ports = z3.And(in_ports, z3.Not(z3.Or(taken)))
        if witness.named_port is not None:
            named = named_ports.get(witness.named_port)
            assert named is not None, "a new pod's named port is one the policies name"
            in_ports = z3.And(named.defined, port == named.number)
            if witness.named_within:
                within = [
                    z3.And(named.number >= r.start, named.number <= r.end)
                    for r in witness.named_within
                ]
                in_ports = z3.And(in_ports, z3.Or(within))
        group = self.product(witness.protocol, witness.flow.same_node, sources, destinations)
        odd = self._decoded(self.solver, group, z3.Not(in_ports))
        if odd is None:
            odd = self._decoded(self.checker, group, in_ports, z3.Not(z3.And(now, z3.Not(before))))
        return odd

    def shared_flow(
        self,
        witness: ChangedFlow,
        sources: list[GroupKey],
        destinations: list[GroupKey],
        reported: z3.BoolRef,
    ) -> Flow | Undecided | None:
        """A flow of the product, on the witness's protocol and placement, that is also one
        of `reported` (asked of the `checker`); None when there is none."""
        group = self.product(witness.protocol, witness.flow.same_node, sources, destinations)
        return self._decoded(self.checker, group, reported)

    def _decoded(self, solver: z3.Solver, *terms: z3.BoolRef) -> Flow | Undecided | None:
        """A flow satisfying the terms (asserted on top of the solver's); None when there
        is none."""
        solver.push()
        try:
            solver.add(*terms)
            outcome = solver.check()
            if outcome == z3.unsat:
                return None
            if outcome != z3.sat:
                return Undecided.UNDECIDED
            return decode_flow(self.encoding, solver.model())
        finally:
            solver.pop()

    @cached_property
    def checker(self) -> z3.Solver:
        """A solver over the search's flows without its "changed" and blocking assertions:
        to ask whether all flows of a group changed."""
        solver = make_solver(self.limits)
        solver.add(*self.space)
        return solver


def _changes(now: z3.BoolRef, before: z3.BoolRef) -> z3.BoolRef:
    return z3.And(now, z3.Not(before))


@dataclass(frozen=True)
class _TierVerdict:
    """One revision's verdict on the symbolic flow under its admin tiers."""

    allowed: z3.BoolRef
    """Allowed in every order the API allows."""
    possibly: z3.BoolRef
    """Allowed in some order."""
    possibly_blocked: z3.BoolRef
    """Blocked in some order."""
    open: bool
    """Some order is left open (else the three are exact)."""


def _with_base_namespace_labels(endpoint: SymbolicEndpoint) -> SymbolicEndpoint:
    """The endpoint with its own variables for BASE's namespace labels (but the name)."""
    labels = {
        key: term if key == NAMESPACE_NAME_LABEL else z3.Int(f"base.{term}")
        for key, term in endpoint.namespace_labels.items()
    }
    return replace(endpoint, namespace_labels=labels)
