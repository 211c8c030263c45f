"""Semantic diff: which flows one revision allows and the other does not.

Flows between existing pods whose every address ipBlocks treat alike (almost all of them)
are a finite question: `class_changes` answers it exactly on both revisions' bit-set
verdicts over shared pod classes, as products of source classes x destination classes that
changed alike. Every product's witness is replayed through the reference evaluator, which
must agree on the verdicts and the ports.

The solver searches the rest, on one symbolic flow: an end that is an external address, a
pod that could exist (`pods: any`) or a pod whose addresses ipBlocks tell apart, each
namespace carrying each revision's own labels. Each change is searched for as "allowed by
one, blocked by the other"; every model is decoded, replayed under both revisions, grouped
with the other groups that changed the same way (same protocol, ports and responsible
rules: one representative of each replayed through the evaluator, the product confirmed by
the solver) and blocked from the search, so that the report lists groups, not pod pairs.
"""

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from functools import cached_property

import z3

from netverify.encoding.classes import PodClass, is_single_pod, pod_identity
from netverify.encoding.cluster import ClusterEncoding
from netverify.encoding.decode import decode_flow
from netverify.encoding.fast import at_least, conj, disj, equals, negate
from netverify.encoding.policies import PolicyEncoding, namespace_is
from netverify.encoding.selectors import in_network
from netverify.encoding.terms import SymbolicEndpoint, SymbolicFlow, protocol_code
from netverify.encoding.universe import IPV4_INTERVAL, IPV6_OFFSET, build_universe, ip_from_number
from netverify.engine.bitsets import ClassVerdicts
from netverify.engine.class_diff import ClassChanges, ClassProduct, port_ranges
from netverify.engine.scope import assumptions, scope_description
from netverify.engine.solver import SolverLimits, make_solver, unknown_reason
from netverify.engine.witness import readable_flow
from netverify.model import (
    NAMESPACE_NAME_LABEL,
    Cluster,
    Direction,
    Endpoint,
    ExternalEndpoint,
    Flow,
    FlowDecision,
    Invariant,
    InvariantKind,
    IPAddress,
    LoadedCluster,
    NamespaceScope,
    NetworkPolicy,
    Pod,
    PodEndpoint,
    PodScope,
    PolicyRule,
    PortRange,
    Protocol,
    RuleRef,
    Settings,
)
from netverify.model.diff import (
    DEFAULT_MAX_FINDINGS,
    Change,
    DiffFinding,
    DiffReport,
    EndpointGroup,
)
from netverify.semantics import evaluate
from netverify.semantics.evaluator import is_self_traffic
from netverify.semantics.matching import policy_selects, rule_peers_match

MAX_GROUPING_ROUNDS = 12
"""Rounds of solver checks spent, per finding, dropping groups that do not change alike."""


@dataclass(frozen=True)
class _ExternalGroup:
    """External addresses inside exactly the same of the universe's networks."""

    cells: tuple[bool, ...]


class _Wild(Enum):
    """A widened attribute of a group of new pods."""

    ANY = "any"
    """Any value (for a named port: any number, or undefined)."""
    OUTSIDE = "outside"
    """A named port undefined or numbered outside the group's `outside` ranges."""


@dataclass(frozen=True)
class _NewPodGroup:
    """Pods that could be created in one namespace, like the witness in everything a policy
    can tell apart: the codes of their labels, their named ports, their address segment.
    (All new pods of a namespace would be too coarse: new pods with other labels may change
    on other ports, or not at all.) `_widened` then frees what the finding does not depend
    on, each step confirmed by the solver."""

    namespace: str
    label_codes: tuple[int | None, ...]
    """The code of each of the universe's label keys; None: any value or none."""
    named_ports: tuple[int | _Wild | None, ...]
    """The number of each of the universe's (name, protocol) ports; None: not defined."""
    segment: int | _Wild | None
    """The address segment; None: no address."""
    outside: tuple[PortRange, ...] = ()
    """The ranges of `_Wild.OUTSIDE`."""

    def covers(self, other: "_NewPodGroup") -> bool:
        """Every pod of `other` is one of this group's."""
        return (
            self.namespace == other.namespace
            and all(
                mine is None or mine == theirs
                for mine, theirs in zip(self.label_codes, other.label_codes, strict=True)
            )
            and all(
                self._port_covers(mine, theirs, other.outside)
                for mine, theirs in zip(self.named_ports, other.named_ports, strict=True)
            )
            and (self.segment is _Wild.ANY or self.segment == other.segment)
        )

    def _port_covers(
        self, mine: int | _Wild | None, theirs: int | _Wild | None, outside: tuple[PortRange, ...]
    ) -> bool:
        """Every number `theirs` (with its group's `outside`) allows, `mine` does."""
        if mine is _Wild.ANY:
            return True
        if mine is not _Wild.OUTSIDE:
            return mine == theirs
        if theirs is _Wild.OUTSIDE:
            return outside == self.outside
        return theirs is None or (
            isinstance(theirs, int) and not any(r.start <= theirs <= r.end for r in self.outside)
        )


@dataclass(frozen=True)
class _ClassGroup:
    """The existing pods of one class (at one address segment, when its pods have several
    that ipBlocks may tell apart: dual stack, say)."""

    index: int
    segment: int | None = None


_GroupKey = _ExternalGroup | _NewPodGroup | _ClassGroup
"""Names an endpoint group of the search."""


@dataclass(frozen=True)
class _Pair:
    source: _GroupKey
    destination: _GroupKey


_UNDECIDED = object()
"""The solver gave up (a time or resource limit)."""


def diff(
    base: LoadedCluster,
    head: LoadedCluster,
    settings: Settings,
    pods: PodScope,
    namespaces: NamespaceScope,
    limits: SolverLimits,
    labels: tuple[str, str] = ("BASE", "HEAD"),
    max_findings: int = DEFAULT_MAX_FINDINGS,
) -> DiffReport:
    """Connectivity added (allowed in HEAD only) and removed (allowed in BASE only)."""
    search = _DiffSearch(base.cluster, head.cluster, settings, pods, namespaces, limits)
    findings: list[DiffFinding] = []
    complete, reason, error = True, None, None
    for change in Change:
        try:
            found, change_complete, change_reason = search.changes(
                change, max_findings - len(findings), max_findings
            )
        except _ReplayMismatch as mismatch:
            error = f"internal error: {mismatch}"
            break
        findings += found
        if not change_complete:
            complete, reason = False, change_reason
    everything = Invariant(name="diff", kind=InvariantKind.FORBID, pods=pods, namespaces=namespaces)
    return DiffReport(
        base_label=labels[0],
        head_label=labels[1],
        findings=tuple(findings),
        complete=complete,
        incomplete_reason=reason,
        error=error,
        scope=scope_description(everything, search.merged),
        assumptions=assumptions(search.merged, settings),
        base_sources=base.sources,
        head_sources=head.sources,
    )


class _ReplayMismatch(Exception):
    """The encoding and the reference evaluator disagree on a witness: a soundness bug."""


def _merged(base: Cluster, head: Cluster) -> Cluster:
    """HEAD's namespaces and pods plus those only BASE has; HEAD's policies."""
    head_namespaces = {ns.name for ns in head.namespaces}
    head_pods = {pod_identity(pod) for pod in head.pods}
    return head.model_copy(
        update={
            "namespaces": tuple(
                sorted(
                    (
                        *head.namespaces,
                        *(n for n in base.namespaces if n.name not in head_namespaces),
                    ),
                    key=lambda ns: ns.name,
                )
            ),
            "pods": tuple(
                sorted(
                    (*head.pods, *(p for p in base.pods if pod_identity(p) not in head_pods)),
                    key=lambda pod: (pod.namespace, pod.name or "", pod.kind),
                )
            ),
            "unmodelled": (*head.unmodelled, *base.unmodelled),
        }
    )


class _DiffSearch:
    def __init__(
        self,
        base: Cluster,
        head: Cluster,
        settings: Settings,
        pods: PodScope,
        namespaces: NamespaceScope,
        limits: SolverLimits,
    ) -> None:
        self.base, self.head, self.settings, self.limits = base, head, settings, limits
        self.pods = pods
        self._network_terms: dict[str, list[z3.BoolRef]] = {}
        self.reported: set[tuple[Change, Protocol, _Pair]] = set()
        """Every (change, protocol, source group, destination group) a finding covers."""
        self.reported_new_pods: dict[tuple[Change, Protocol, _GroupKey | None], list[_Pair]] = {}
        """The pairs of `reported` with a group of new pods (a widened one covers other pairs
        than itself), filed by `_filing`."""
        self.merged = _merged(base, head)
        universe = build_universe([self.merged, base], (), settings.pod_cidrs)
        self.encoding = ClusterEncoding(self.merged, settings, universe=universe)
        flow = self.encoding.flow
        # Where BASE labels every namespace as HEAD does, both revisions are judged on the
        # same terms, and the policies they share are the same formulas (Z3 shares equal
        # terms): the solver sees one copy of what did not change.
        relabelled = any(
            self.merged.namespace(namespace.name) != namespace for namespace in base.namespaces
        )
        base_flow = flow
        if relabelled:
            base_flow = SymbolicFlow(
                source=self._with_base_namespace_labels(flow.source),
                destination=self._with_base_namespace_labels(flow.destination),
                protocol=flow.protocol,
                port=flow.port,
                same_node=flow.same_node,
            )
        self.units = {
            pod_class.index
            for pod_class in self.encoding.classes
            if len(pod_class.address_segments or ()) <= 1
        }
        """Classes whose flows to each other `class_changes` compares on bit sets; the solver
        searches the other flows only."""
        solved = self._solver_namespaces()
        self.head_allowed, self.base_allowed = (
            PolicyEncoding(
                [p for p in cluster.policies if solved is None or p.namespace in solved],
                universe,
                symbolic_flow,
                settings,
            ).allowed
            for cluster, symbolic_flow in ((self.merged, flow), (base, base_flow))
        )
        self.space: list[z3.BoolRef] = [self.encoding.domain, z3.Not(self.encoding.self_traffic)]
        if self.encoding.node_local_possible:
            self.space.append(z3.Not(flow.same_node))
        """The flows the diff is about (both revisions' namespace labels, the scope). A
        pod's traffic to itself and node-local traffic are allowed whatever the policies
        say, so they never change."""
        for symbolic, base_symbolic in (
            (flow.source, base_flow.source),
            (flow.destination, base_flow.destination),
        ):
            if relabelled:
                self.space.append(self._base_namespace_domain(symbolic, base_symbolic))
            if pods is PodScope.EXISTING:
                self.space.append(self.encoding.existing_pod(symbolic))
            if namespaces is NamespaceScope.EXISTING:
                self.space.append(self.encoding.existing_namespace(symbolic))
        self.solver = make_solver(limits)
        self.solver.add(*self.space, self._where_changes_can_be())
        if self.units:
            self.solver.add(
                negate(conj([self._is_unit(flow.source), self._is_unit(flow.destination)]))
            )

    def _where_changes_can_be(self) -> z3.BoolRef:
        """A changed flow has a pod end in a namespace whose policies or labels changed.

        A side's verdict depends only on the policies of the side's pod's namespace and on
        the labels of the namespaces of the two ends; where neither changed, neither verdict
        did. Said to the search only (it prunes most of the cluster from it), not to the
        `checker`, which must see unchanged flows.
        """
        flow = self.encoding.flow
        return disj(
            [
                conj([end.is_pod, namespace_is(self.encoding.universe, end, name)])
                for end in (flow.source, flow.destination)
                for name in sorted(self.changed_namespaces)
            ]
            or [z3.BoolVal(False)]
        )

    @cached_property
    def changed_namespaces(self) -> set[str]:
        """The namespaces whose policies or labels changed."""
        return {
            namespace.name
            for namespace in self.merged.namespaces
            if self.base.policies_in(namespace.name) != self.head.policies_in(namespace.name)
            or self.base.namespace(namespace.name) != self.head.namespace(namespace.name)
        }

    def _solver_namespaces(self) -> set[str] | None:
        """The namespaces whose policies the solver must see (None: every namespace).

        Between existing pods, when every class is one of the `units`, the solver is only
        asked about flows between an external address, which no policy governs, and a pod
        of a changed namespace (`_where_changes_can_be`; the groups `_confirmed` asks about
        are of such flows too, as only they change): that namespace's policies decide
        them. A pull request touches a few namespaces: the formulas shrink with it."""
        if self.pods is PodScope.ANY or len(self.units) < len(self.encoding.classes):
            return None
        return self.changed_namespaces

    def _is_unit(self, end: SymbolicEndpoint) -> z3.BoolRef:
        """The symbolic endpoint is a pod of one of the `units` classes."""
        terms = [end.is_pod, at_least(end.pod_class, 0)]
        others = [c.index for c in self.encoding.classes if c.index not in self.units]
        if others:
            terms.append(negate(disj([equals(end.pod_class, index) for index in others])))
        return conj(terms)

    @cached_property
    def class_changes(self) -> ClassChanges:
        """The changed flows between `units` classes, on both revisions' bit-set verdicts
        over the same classes (BASE's namespace labels where BASE defines the namespace)."""
        pod_groups = [pod_class.pods for pod_class in self.encoding.classes]
        base_names = {namespace.name for namespace in self.base.namespaces}
        base = self.base.model_copy(
            update={
                "namespaces": (
                    *self.base.namespaces,
                    *(n for n in self.merged.namespaces if n.name not in base_names),
                )
            }
        )
        return ClassChanges(
            head=ClassVerdicts(self.merged, self.settings, pod_groups),
            base=ClassVerdicts(base, self.settings, pod_groups),
            units=sum(1 << index for index in self.units),
            single=sum(1 << c.index for c in self.encoding.classes if is_single_pod(c.pods)),
            focus=sum(
                1 << c.index
                for c in self.encoding.classes
                if c.namespace in self.changed_namespaces
            ),
        )

    def _with_base_namespace_labels(self, endpoint: SymbolicEndpoint) -> SymbolicEndpoint:
        labels = {
            key: term if key == NAMESPACE_NAME_LABEL else z3.Int(f"base.{term}")
            for key, term in endpoint.namespace_labels.items()
        }
        return replace(endpoint, namespace_labels=labels)

    def _base_namespace_domain(
        self, endpoint: SymbolicEndpoint, base_endpoint: SymbolicEndpoint
    ) -> z3.BoolRef:
        """BASE's labels for namespaces BASE defines; HEAD's labels for every other one."""
        universe = self.encoding.universe.namespace_labels
        in_base = []
        terms = []
        for namespace in self.base.namespaces:
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

    def changes(
        self, change: Change, budget: int, max_findings: int
    ) -> tuple[list[DiffFinding], bool, str | None]:
        """At most `budget` findings of one kind (what `max_findings` in all leaves), the
        search complete or not, and why not."""
        now, before = self._now_before(change)
        findings: list[DiffFinding] = []
        existing_first = z3.Bool(f"diff.{change.value}.existing_first")
        self.solver.push()
        try:
            self.solver.add(now, z3.Not(before))
            ends = (self.encoding.flow.source, self.encoding.flow.destination)
            self.solver.add(
                z3.Implies(existing_first, z3.And([self.encoding.existing_pod(e) for e in ends]))
            )
            for product in self.class_changes.products(change):
                if len(findings) >= budget:
                    return findings, False, f"stopped at the limit of {max_findings} findings"
                findings.append(self._class_finding(change, product))
            passes = [[existing_first], []] if self.pods is PodScope.ANY else [[]]
            for assumptions in passes:
                while True:
                    outcome = self.solver.check(*assumptions)
                    if outcome == z3.unsat:
                        break
                    if outcome == z3.unknown:
                        return findings, False, unknown_reason(self.solver, self.limits)
                    if len(findings) >= budget:
                        return findings, False, f"stopped at the limit of {max_findings} findings"
                    if assumptions:
                        # readable_flow's preferences are asserted: so must the assumptions be.
                        self.solver.push()
                        self.solver.add(*assumptions)
                        self.solver.check()
                    flow = readable_flow(
                        self.solver,
                        self.encoding,
                        prefer_existing=False,
                        tidy_labels=self.pods is PodScope.ANY,
                        prefer_tcp=False,
                    )
                    if assumptions:
                        self.solver.pop()
                    finding = self._finding(change, flow)
                    findings.append(finding)
            return findings, True, None
        finally:
            self.solver.pop()

    def _group_key(self, endpoint: Endpoint) -> _GroupKey:
        """The group of endpoints no policy of either revision tells apart from `endpoint`."""
        if not isinstance(endpoint, PodEndpoint):
            return self._external_group(endpoint.ip)
        pod_class = self._class_of(endpoint)
        if pod_class is None:
            universe = self.encoding.universe
            numbers = {(port.name, port.protocol): port.port for port in endpoint.pod.ports}
            return _NewPodGroup(
                namespace=endpoint.namespace.name,
                label_codes=universe.pod_labels.codes(endpoint.pod.labels),
                named_ports=tuple(
                    numbers.get(key) for key in self.encoding.flow.source.named_ports
                ),
                segment=None if endpoint.ip is None else universe.segment_of(endpoint.ip),
            )
        segment = None
        if len(pod_class.address_segments or ()) > 1 and endpoint.ip is not None:
            segment = self.encoding.universe.segment_of(endpoint.ip)
        return _ClassGroup(pod_class.index, segment)

    def _external_group(self, ip: IPAddress) -> _ExternalGroup:
        return _ExternalGroup(tuple(ip in network for network in self.encoding.universe.networks))

    def _group_term(self, key: _GroupKey, end: SymbolicEndpoint) -> z3.BoolRef:
        """The symbolic endpoint is in the group `key` names."""
        match key:
            case _ExternalGroup(cells):
                inside = self._in_networks(end)
                return conj(
                    [
                        negate(end.is_pod),
                        *(
                            term if cell else negate(term)
                            for term, cell in zip(inside, cells, strict=True)
                        ),
                    ]
                )
            case _NewPodGroup(namespace, label_codes, named_ports, segment, outside):
                universe = self.encoding.universe
                terms = [
                    end.is_pod,
                    end.pod_class == -1,
                    namespace_is(universe, end, namespace),
                    *(
                        end.pod_labels[key] == code
                        for key, code in zip(universe.pod_labels.keys, label_codes, strict=True)
                        if code is not None
                    ),
                ]
                for port, pin in zip(end.named_ports.values(), named_ports, strict=True):
                    if pin is None:
                        terms.append(z3.Not(port.defined))
                    elif pin is _Wild.OUTSIDE:
                        elsewhere = [
                            z3.Or(port.number < r.start, port.number > r.end) for r in outside
                        ]
                        terms.append(z3.Or(z3.Not(port.defined), z3.And(elsewhere)))
                    elif pin is not _Wild.ANY:
                        terms.append(z3.And(port.defined, port.number == pin))
                if segment is None:
                    terms.append(z3.Not(end.has_ip))
                elif isinstance(segment, int):
                    low, high = universe.segment_interval(segment)
                    terms += [end.has_ip, end.ip >= low, end.ip <= high]
                return z3.And(terms)
            case _ClassGroup(index, segment):
                terms = [end.is_pod, end.pod_class == index]
                if segment is not None:
                    low, high = self.encoding.universe.segment_interval(segment)
                    terms += [end.ip >= low, end.ip <= high]
                return z3.And(terms)

    def _in_networks(self, end: SymbolicEndpoint) -> list[z3.BoolRef]:
        """The endpoint's address is in each of the universe's networks (once per end: every
        group of external addresses is a combination of them)."""
        terms = self._network_terms.get(end.role)
        if terms is None:
            networks = self.encoding.universe.networks
            terms = self._network_terms[end.role] = [in_network(end.ip, n) for n in networks]
        return terms

    def _any_group_term(self, keys: Sequence[_GroupKey], end: SymbolicEndpoint) -> z3.BoolRef:
        """The symbolic endpoint is in one of the groups (whole classes as one test)."""
        whole = {k.index for k in keys if isinstance(k, _ClassGroup) and k.segment is None}
        terms = [
            self._group_term(key, end)
            for key in keys
            if not (isinstance(key, _ClassGroup) and key.index in whole)
        ]
        if whole:
            classes = disj([equals(end.pod_class, index) for index in sorted(whole)])
            terms.append(conj([end.is_pod, classes]))
        return disj(terms)

    def _finding(self, change: Change, flow: Flow) -> DiffFinding:
        """The solver's witness's finding, taking in the other groups changed alike; every
        flow it covers is then blocked from the search."""
        head_decision, base_decision = self._replayed(change, flow)
        ports = self._changed_ports(flow, change)
        allowing = head_decision if change is Change.ADDED else base_decision
        witness = self._widened(
            change,
            flow,
            ports,
            _Pair(self._group_key(flow.source), self._group_key(flow.destination)),
        )
        sources = [
            witness.source,
            *self._alike(flow, witness, change, ports, allowing, at_source=True),
        ]
        destinations = [
            witness.destination,
            *self._alike(flow, witness, change, ports, allowing, at_source=False),
        ]
        sources, destinations = self._confirmed(change, flow.protocol, ports, sources, destinations)
        for pair in (_Pair(s, d) for s in sources for d in destinations):
            self.reported.add((change, flow.protocol, pair))
            if any(isinstance(key, _NewPodGroup) for key in (pair.source, pair.destination)):
                index = (change, flow.protocol, _filing(pair))
                self.reported_new_pods.setdefault(index, []).append(pair)
        symbolic = self.encoding.flow
        self.solver.add(
            z3.Not(
                z3.And(
                    symbolic.protocol == protocol_code(flow.protocol),
                    self._any_group_term(sources, symbolic.source),
                    self._any_group_term(destinations, symbolic.destination),
                )
            )
        )
        return self._reported(
            change, flow, (head_decision, base_decision), ports, sources, destinations
        )

    def _class_finding(self, change: Change, product: ClassProduct) -> DiffFinding:
        """A product of `class_changes`, its witness (one pod of the first source class to
        one of the first destination class) replayed through the evaluator, which must agree
        on the verdicts and the ports."""
        source_class = self.encoding.classes[product.sources[0]]
        destination_class = self.encoding.classes[product.destinations[0]]
        # Two pods of one class, where it has two; a workload stands for its replicas.
        destination_pod = destination_class.pods[
            1 if source_class is destination_class and len(destination_class.pods) > 1 else 0
        ]
        flow = Flow(
            source=self._endpoint(source_class.pods[0]),
            destination=self._endpoint(destination_pod),
            protocol=product.protocol,
            port=product.port,
        )
        decisions = self._replayed(change, flow)
        ports = self._changed_ports(flow, change)
        if ports != product.ports:
            raise _ReplayMismatch(
                f"the {change.value} flow {flow.model_dump_json()} changed on ports "
                f"{[r.model_dump() for r in ports]} by the reference evaluator but on "
                f"{[r.model_dump() for r in product.ports]} by the bit-set verdicts "
                "(a soundness bug; please report it)"
            )
        return self._reported(
            change,
            flow,
            decisions,
            ports,
            [_ClassGroup(index) for index in product.sources],
            [_ClassGroup(index) for index in product.destinations],
        )

    def _replayed(self, change: Change, flow: Flow) -> tuple[FlowDecision, FlowDecision]:
        """The witness under HEAD and BASE, which must show the change."""
        head_decision, base_decision = self._decisions(flow)
        if not _changed(change, head_decision, base_decision):
            raise _ReplayMismatch(
                f"the {change.value} flow {flow.model_dump_json()} is not confirmed by "
                "the reference evaluator (a soundness bug; please report it)"
            )
        return head_decision, base_decision

    def _reported(
        self,
        change: Change,
        flow: Flow,
        decisions: tuple[FlowDecision, FlowDecision],
        ports: tuple[PortRange, ...],
        sources: list[_GroupKey],
        destinations: list[_GroupKey],
    ) -> DiffFinding:
        source = self._group(flow.source, sources[0])
        destination = self._group(flow.destination, destinations[0])
        return DiffFinding(
            change=change,
            source=source,
            destination=destination,
            protocol=flow.protocol,
            ports=ports,
            head=decisions[0],
            base=decisions[1],
            other_sources=self._described(sources, source),
            other_destinations=self._described(destinations, destination),
        )

    def _described(
        self, keys: list[_GroupKey], witness: EndpointGroup
    ) -> tuple[EndpointGroup, ...]:
        """The groups after the witness's (keys[0]), for people: each class by its pods;
        new pods by namespace, with the witness's labels (they are like it); external
        addresses once (their cells mean nothing to a reader), unless the witness's group
        is external addresses already."""
        described = [
            _class_group(self.encoding.classes[key.index], None)
            if isinstance(key, _ClassGroup)
            else EndpointGroup(kind="new-pod", namespace=key.namespace, labels=witness.labels)
            for key in keys[1:]
            if isinstance(key, _ClassGroup | _NewPodGroup)
        ]
        if not isinstance(keys[0], _ExternalGroup) and any(
            isinstance(key, _ExternalGroup) for key in keys[1:]
        ):
            described.append(EndpointGroup(kind="external"))
        return tuple(described)

    @cached_property
    def candidates(self) -> list[tuple[_GroupKey, Endpoint]]:
        """One representative endpoint per group a finding may take in: each existing class
        whose pods have at most one address segment, and each cell of external addresses
        (an address of it that is outside the pod CIDRs and no pod's)."""
        found: list[tuple[_GroupKey, Endpoint]] = []
        for pod_class in self.encoding.classes:
            if len(pod_class.address_segments or ()) > 1:
                continue
            found.append((_ClassGroup(pod_class.index), self._endpoint(pod_class.pods[0])))
        pod_addresses = {ip for pod in self.merged.pods for ip in pod.ips}
        cells: set[_ExternalGroup] = set()
        universe = self.encoding.universe
        for segment in range(len(universe.segment_starts) - 1):
            low, high = universe.segment_interval(segment)
            for number in (low, high, max(low, IPV6_OFFSET)):
                if not (
                    low <= number <= high
                    and (IPV4_INTERVAL[0] <= number <= IPV4_INTERVAL[1] or number >= IPV6_OFFSET)
                ):
                    continue
                ip = ip_from_number(number)
                if ip in pod_addresses or any(ip in cidr for cidr in self.settings.pod_cidrs):
                    continue
                key = self._external_group(ip)
                if key not in cells:
                    cells.add(key)
                    found.append((key, ExternalEndpoint(ip=ip)))
                break
        return found

    def _endpoint(self, pod: Pod) -> PodEndpoint:
        """An existing pod as a flow endpoint, at its first address."""
        namespace = self.merged.namespace(pod.namespace)
        assert namespace is not None, "every pod's namespace is loaded or implied"
        # Valid parts make a valid endpoint: skip validating thousands of candidates again.
        return PodEndpoint.model_construct(
            namespace=namespace, pod=pod, ip=pod.ips[0] if pod.ips else None
        )

    def _new_pods_elsewhere(
        self, endpoint: PodEndpoint, key: _NewPodGroup
    ) -> list[tuple[_GroupKey, Endpoint]]:
        """The same new pod in each other existing namespace: the candidates to group with a
        witness that is a pod that could exist."""
        return [
            (
                replace(key, namespace=namespace.name),
                PodEndpoint(
                    namespace=namespace,
                    pod=endpoint.pod.model_copy(update={"namespace": namespace.name}),
                    ip=endpoint.ip,
                ),
            )
            for namespace in self.merged.namespaces
            if namespace.name != key.namespace
        ]

    def _widened(
        self, change: Change, flow: Flow, ports: tuple[PortRange, ...], witness: _Pair
    ) -> _Pair:
        """The witness's groups, each group of new pods widened to the first of a few wider
        groups whose every flow (with the other end's group) still changes on exactly
        `ports`: pods that could exist differ in endless ways, and a finding per way would
        be noise. Named ports and address first (`_port_widenings`), then labels: any, or
        else only the keys the policies of the flow's namespaces mention pinned."""
        keys, names = self._mentioned(flow)
        named = [name in names for name, _ in self.encoding.flow.source.named_ports]
        labelled = [key in keys for key in self.encoding.universe.pod_labels.keys]
        for at_source in (True, False):
            key = witness.source if at_source else witness.destination
            if not isinstance(key, _NewPodGroup):
                continue
            end = "source" if at_source else "destination"
            widest = self._first_alike(
                change, flow, ports, witness, end, _port_widenings(key, ports, named)
            )
            pinned = tuple(c if m else None for c, m in zip(key.label_codes, labelled, strict=True))
            labels = [replace(widest, label_codes=c) for c in ((None,) * len(pinned), pinned)]
            witness = replace(witness, **{end: widest})
            witness = replace(
                witness, **{end: self._first_alike(change, flow, ports, witness, end, labels)}
            )
        return witness

    def _first_alike(
        self,
        change: Change,
        flow: Flow,
        ports: tuple[PortRange, ...],
        witness: _Pair,
        end: str,
        groups: list[_NewPodGroup],
    ) -> _NewPodGroup:
        """The first of `groups` that, at the witness's `end` (a group of new pods), changes
        alike; else the witness's own group there."""
        for group in groups:
            pair = replace(witness, **{end: group})
            if self._covers_reported(change, flow.protocol, pair):
                continue  # its flows there changed on other ports too, or were reported
            odd = self._odd_flow(change, flow.protocol, ports, [pair.source], [pair.destination])
            if odd is None:
                return group
        own = witness.source if end == "source" else witness.destination
        assert isinstance(own, _NewPodGroup)
        return own

    def _mentioned(self, flow: Flow) -> tuple[set[str], set[str]]:
        """The pod label keys the policies of the flow's namespaces (in either revision)
        select on, which only decide it; and the port names in the rules of those that
        could admit the flow (selecting its end on their side, with a peer matching the
        other; the endpoints as in that revision)."""
        keys: set[str] = set()
        names: set[str] = set()
        namespaces = {
            e.namespace.name for e in (flow.source, flow.destination) if isinstance(e, PodEndpoint)
        }
        for cluster in (self.base, self.head):
            probe = flow if cluster is self.head else self._as_in_base(flow)
            for policy in (p for namespace in namespaces for p in cluster.policies_in(namespace)):
                for direction in Direction:
                    subject, peer = (
                        (probe.source, probe.destination)
                        if direction is Direction.EGRESS
                        else (probe.destination, probe.source)
                    )
                    selected = policy_selects(policy, subject)
                    for rule in policy.rules(direction):
                        selectors = [p.pod_selector for p in rule.peers if p.pod_selector]
                        for selector in (policy.pod_selector, *selectors):
                            keys |= selector.match_labels.keys()
                            keys |= {r.key for r in selector.match_expressions}
                        if selected and rule_peers_match(
                            rule, policy.namespace, peer, self.settings
                        ):
                            names |= {e.named_port for e in rule.ports if e.named_port}
        return keys, names

    def _alike(
        self,
        flow: Flow,
        witness: _Pair,
        change: Change,
        ports: tuple[PortRange, ...],
        allowing: FlowDecision,
        at_source: bool,
    ) -> list[_GroupKey]:
        """Groups that, put at one end of the witness (`at_source`: its source) with the
        other end kept, change like it: on its ports, allowed by the same rules at its port.

        One representative of each group is replayed through the evaluator (a group's
        endpoints are decided alike), after a cheap necessary test on the rules; whether
        they change on other ports too, and whether the whole product of sources and
        destinations changes, is `_confirmed`'s question.
        """
        kept = flow.destination if at_source else flow.source
        kept_key = witness.destination if at_source else witness.source
        replaced = flow.source if at_source else flow.destination
        replaced_key = witness.source if at_source else witness.destination
        candidates = (
            self._new_pods_elsewhere(replaced, replaced_key)
            if isinstance(replaced, PodEndpoint) and isinstance(replaced_key, _NewPodGroup)
            else self.candidates
        )
        rules = _allowing_rules(allowing)
        could_allow = self._rule_test(change, allowing, at_source)
        alike: list[_GroupKey] = []
        for key, endpoint in candidates:
            pair = _Pair(key, kept_key) if at_source else _Pair(kept_key, key)
            if (
                key == replaced_key
                or self._is_reported(change, flow.protocol, pair)
                or not (isinstance(endpoint, PodEndpoint) or isinstance(kept, PodEndpoint))
                or is_self_traffic(endpoint, kept)
                or not could_allow(endpoint)
            ):
                continue
            probe = flow.model_copy(update={"source" if at_source else "destination": endpoint})
            decision = self._decide(probe, in_head=change is Change.ADDED)
            if (
                decision.allowed
                and _allowing_rules(decision) == rules
                and not self._decide(probe, in_head=change is Change.REMOVED).allowed
                and self._changes_at_ends(probe, change, ports)
            ):
                alike.append(key)
        return alike

    def _changes_at_ends(self, flow: Flow, change: Change, ports: tuple[PortRange, ...]) -> bool:
        """The change holds at both ends of every range of `ports` (a cheap filter: whether
        it holds on every port between them is `_confirmed`'s question)."""
        ends = sorted({port for r in ports for port in (r.start, r.end)} - {flow.port})
        return all(self._changes_at(flow, change, port) for port in ends)

    def _changes_at(self, flow: Flow, change: Change, port: int) -> bool:
        """The flow, moved to `port`, is allowed now and was blocked before (the evaluator's
        word, asked of the revision that allows first: it usually settles it)."""
        probe = flow.model_copy(update={"port": port})
        return (
            self._decide(probe, in_head=change is Change.ADDED).allowed
            and not self._decide(probe, in_head=change is Change.REMOVED).allowed
        )

    def _rule_test(
        self, change: Change, allowing: FlowDecision, at_source: bool
    ) -> Callable[[Endpoint], bool]:
        """A cheap test every endpoint must pass to be allowed, at that end, by exactly the
        witness's rules: the policy of each rule of the end's own side selects it; each rule
        of the other side has a peer that matches it (or none at all)."""
        cluster = self.head if change is Change.ADDED else self.base
        own, other = (
            (allowing.egress, allowing.ingress)
            if at_source
            else (allowing.ingress, allowing.egress)
        )
        selecting = [_rule(cluster, ref)[0] for ref in own.allowed_by]
        admitting = [_rule(cluster, ref) for ref in other.allowed_by]

        def test(endpoint: Endpoint) -> bool:
            if change is Change.REMOVED:
                endpoint = self._endpoint_in_base(endpoint)
            return all(policy_selects(policy, endpoint) for policy in selecting) and all(
                rule_peers_match(rule, policy.namespace, endpoint, self.settings)
                for policy, rule in admitting
            )

        return test

    def _confirmed(
        self,
        change: Change,
        protocol: Protocol,
        ports: tuple[PortRange, ...],
        sources: list[_GroupKey],
        destinations: list[_GroupKey],
    ) -> tuple[list[_GroupKey], list[_GroupKey]]:
        """The largest product of the groups found by dropping groups (never the witness's)
        until every flow between them on the protocol changes on exactly `ports`, and none
        was reported before. Asked of the solvers, as the evaluator would need a probe per
        pair and port segment; after a few rounds, or on a solver limit, the witness's
        groups alone (which only makes the report longer)."""
        witness = _Pair(sources[0], destinations[0])
        for _ in range(MAX_GROUPING_ROUNDS):
            sources, destinations = self._unreported(change, protocol, sources, destinations)
            if len(sources) == 1 and len(destinations) == 1:
                return sources, destinations
            odd = self._odd_flow(change, protocol, ports, sources, destinations)
            if odd is None:
                return sources, destinations
            if odd is _UNDECIDED or odd == witness:
                break
            assert isinstance(odd, _Pair)
            if odd.destination != witness.destination:
                destinations = [key for key in destinations if key != odd.destination]
            else:
                sources = [key for key in sources if key != odd.source]
        return [witness.source], [witness.destination]

    def _odd_flow(
        self,
        change: Change,
        protocol: Protocol,
        ports: tuple[PortRange, ...],
        sources: list[_GroupKey],
        destinations: list[_GroupKey],
    ) -> "_Pair | object | None":
        """The groups of a flow of the product, on the protocol, that does not change on
        exactly `ports`: one that changes outside them (asked of the search, which knows
        where changes can be) or one that does not change on them (asked of the `checker`,
        which sees unchanged flows); None when there is none, `_UNDECIDED` when the solver
        gave up."""
        now, before = self._now_before(change)
        symbolic = self.encoding.flow
        port = symbolic.port
        in_ports = z3.Or([z3.And(port >= r.start, port <= r.end) for r in ports])
        group = z3.And(
            symbolic.protocol == protocol_code(protocol),
            self._any_group_term(sources, symbolic.source),
            self._any_group_term(destinations, symbolic.destination),
        )
        odd = self._example(self.solver, group, z3.Not(in_ports))
        if odd is None:
            odd = self._example(self.checker, group, in_ports, z3.Not(z3.And(now, z3.Not(before))))
        return odd

    def _unreported(
        self,
        change: Change,
        protocol: Protocol,
        sources: list[_GroupKey],
        destinations: list[_GroupKey],
    ) -> tuple[list[_GroupKey], list[_GroupKey]]:
        """Drop groups until no pair of the product was reported by an earlier finding."""
        for source in list(sources):
            for destination in list(destinations):
                if not self._is_reported(change, protocol, _Pair(source, destination)):
                    continue
                if destination != destinations[0]:
                    destinations.remove(destination)
                elif source != sources[0] and source in sources:
                    sources.remove(source)
        return sources, destinations

    def _is_reported(self, change: Change, protocol: Protocol, pair: _Pair) -> bool:
        """A finding covers the pair already: a solver finding's, or `class_changes`'s (which
        cover every changed flow between `units` classes)."""
        if all(
            isinstance(key, _ClassGroup) and key.index in self.units
            for key in (pair.source, pair.destination)
        ):
            return True
        return (change, protocol, pair) in self.reported or any(
            _covers(wide.source, pair.source) and _covers(wide.destination, pair.destination)
            for wide in self.reported_new_pods.get((change, protocol, _filing(pair)), ())
        )

    def _covers_reported(self, change: Change, protocol: Protocol, pair: _Pair) -> bool:
        """The pair (with a widened group) takes in a pair a finding reported already."""
        return any(
            _covers(pair.source, old.source) and _covers(pair.destination, old.destination)
            for old in self.reported_new_pods.get((change, protocol, _filing(pair)), ())
        )

    def _example(self, solver: z3.Solver, *terms: z3.BoolRef) -> "_Pair | object | None":
        """The groups of a flow satisfying the terms; None when there is none;
        `_UNDECIDED` when the solver gave up."""
        solver.push()
        try:
            solver.add(*terms)
            outcome = solver.check()
            if outcome == z3.unsat:
                return None
            if outcome != z3.sat:
                return _UNDECIDED
            flow = decode_flow(self.encoding, solver.model())
        finally:
            solver.pop()
        return _Pair(self._group_key(flow.source), self._group_key(flow.destination))

    @cached_property
    def checker(self) -> z3.Solver:
        """A solver over the search's flows without its "changed" and blocking assertions:
        to ask whether all flows of a group changed."""
        solver = make_solver(self.limits)
        solver.add(*self.space)
        return solver

    def _now_before(self, change: Change) -> tuple[z3.BoolRef, z3.BoolRef]:
        """ "Allowed" where the change says it is now, and where it was before."""
        if change is Change.ADDED:
            return self.head_allowed, self.base_allowed
        return self.base_allowed, self.head_allowed

    def _decisions(self, flow: Flow) -> tuple[FlowDecision, FlowDecision]:
        """The flow under HEAD and under BASE."""
        return self._decide(flow, in_head=True), self._decide(flow, in_head=False)

    def _decide(self, flow: Flow, in_head: bool) -> FlowDecision:
        """The reference evaluator's decision on the flow in HEAD or in BASE."""
        if in_head:
            return evaluate(self.head, flow, self.settings)
        return evaluate(self.base, self._as_in_base(flow), self.settings)

    def _as_in_base(self, flow: Flow) -> Flow:
        """The flow with BASE's namespace objects (their labels may differ)."""
        return flow.model_copy(
            update={
                "source": self._endpoint_in_base(flow.source),
                "destination": self._endpoint_in_base(flow.destination),
            }
        )

    def _endpoint_in_base(self, endpoint: Endpoint) -> Endpoint:
        if not isinstance(endpoint, PodEndpoint):
            return endpoint
        namespace = self.base.namespace(endpoint.namespace.name)
        return (
            endpoint if namespace is None else endpoint.model_copy(update={"namespace": namespace})
        )

    def _class_of(self, endpoint: PodEndpoint) -> PodClass | None:
        for pod_class in self.encoding.classes:
            if any(pod is endpoint.pod for pod in pod_class.pods):
                return pod_class
        return None

    def _group(self, endpoint: Endpoint, key: _GroupKey) -> EndpointGroup:
        """The witness's group for people; new pods with the witness's labels that the
        group pins (a widened group takes pods with any value of the others)."""
        if not isinstance(endpoint, PodEndpoint):
            return EndpointGroup(kind="external")
        if isinstance(key, _NewPodGroup):
            codes = dict(zip(self.encoding.universe.pod_labels.keys, key.label_codes, strict=True))
            labels = {k: v for k, v in endpoint.pod.labels.items() if codes.get(k) is not None}
            return EndpointGroup(kind="new-pod", namespace=endpoint.namespace.name, labels=labels)
        pod_class = self._class_of(endpoint)
        assert pod_class is not None, "an existing pod's group is its class"
        return _class_group(pod_class, endpoint.pod.labels)

    def _port_cuts(self, flow: Flow) -> set[int]:
        """Where a verdict between the flow's endpoints can change along the ports: where a
        rule's port range starts or ends, around each named port of the destination."""
        cuts: set[int] = set()
        # Only the source's egress policies and the destination's ingress policies decide.
        namespaces = {
            end.namespace.name
            for end in (flow.source, flow.destination)
            if isinstance(end, PodEndpoint)
        }
        for cluster in (self.base, self.head):
            for policy in (p for ns in namespaces for p in cluster.policies_in(ns)):
                for rule in (*policy.ingress, *policy.egress):
                    for entry in rule.ports:
                        if entry.port_range is not None:
                            cuts |= {entry.port_range.start, entry.port_range.end + 1}
        if isinstance(flow.destination, PodEndpoint):
            for port in flow.destination.pod.ports:
                cuts |= {port.port, port.port + 1}
        return cuts

    def _changed_ports(self, flow: Flow, change: Change) -> tuple[PortRange, ...]:
        """Every port on which the change holds for the flow's two endpoints (for a group of
        existing pods, for the whole group).

        Verdicts only change where a policy's range starts or ends or a named port lies, so
        one port per segment between those points stands for the whole segment.
        """
        cuts = {1, 65536} | self._port_cuts(flow)
        points = sorted(cut for cut in cuts if 1 <= cut <= 65536)
        return port_ranges(
            (start, end - 1)
            for start, end in itertools.pairwise(points)
            if self._changes_at(flow, change, start)
        )


def _port_widenings(
    key: _NewPodGroup, ports: tuple[PortRange, ...], mentioned: list[bool]
) -> list[_NewPodGroup]:
    """Wider groups of new pods, widest first: any named ports and address; any named ports
    but those the policies at hand mention (`mentioned`, per universe port), which must be
    undefined or outside `ports` (or anything, where the witness's is inside them: the
    witness is in every group), at any address, then at the witness's; those pinned as the
    witness's, the others any."""
    inside = [
        isinstance(pin, int) and any(r.start <= pin <= r.end for r in ports)
        for pin in key.named_ports
    ]
    outside = tuple(
        _Wild.OUTSIDE if named and not hit else _Wild.ANY
        for named, hit in zip(mentioned, inside, strict=True)
    )
    pinned = tuple(
        pin if named else _Wild.ANY for pin, named in zip(key.named_ports, mentioned, strict=True)
    )
    return [
        replace(key, named_ports=(_Wild.ANY,) * len(key.named_ports), segment=_Wild.ANY),
        replace(key, named_ports=outside, segment=_Wild.ANY, outside=ports),
        replace(key, named_ports=outside, outside=ports),
        replace(key, named_ports=pinned),
    ]


def _filing(pair: _Pair) -> _GroupKey | None:
    """Where `reported_new_pods` files a pair: under its first end that is no group of new
    pods (a pair with a group of new pods covers, or is covered by, only pairs with that
    same end), else under None."""
    for key in (pair.source, pair.destination):
        if not isinstance(key, _NewPodGroup):
            return key
    return None


def _covers(group: _GroupKey, other: _GroupKey) -> bool:
    """Every endpoint of `other` is one of `group`'s."""
    if isinstance(group, _NewPodGroup) and isinstance(other, _NewPodGroup):
        return group.covers(other)
    return group == other


def _changed(change: Change, head: FlowDecision, base: FlowDecision) -> bool:
    """The flow is allowed where `change` says it is now and blocked where it was."""
    wanted = change is Change.ADDED
    return head.allowed == wanted and base.allowed != wanted


def _allowing_rules(decision: FlowDecision) -> tuple[tuple[RuleRef, ...], tuple[RuleRef, ...]]:
    """The rules that allow an allowed flow, egress and ingress."""
    return decision.egress.allowed_by, decision.ingress.allowed_by


def _class_group(pod_class: PodClass, labels: dict[str, str] | None) -> EndpointGroup:
    """The class's pods, described with `labels` (one pod's, by default the first's: the
    class shares the codes of the labels that matter, not every label value)."""
    return EndpointGroup(
        kind="pods",
        namespace=pod_class.namespace,
        pods=tuple(pod.name or "" for pod in pod_class.pods),
        labels=pod_class.pods[0].labels if labels is None else labels,
    )


def _rule(cluster: Cluster, ref: RuleRef) -> tuple[NetworkPolicy, PolicyRule]:
    """The policy and the rule a reference names (the reference comes from the evaluator
    on `cluster`)."""
    assert ref.policy.namespace is not None, "a NetworkPolicy is namespaced"
    policy = next(
        policy
        for policy in cluster.policies_in(ref.policy.namespace)
        if policy.name == ref.policy.name
    )
    return policy, policy.rules(ref.direction)[ref.index]
