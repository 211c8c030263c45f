"""Semantic diff: which flows one revision allows and the other does not.

Both revisions are judged on one symbolic flow: the endpoints are the pods of either
revision (or, with `pods: any`, every pod that could exist), each namespace carries each
revision's own labels. Each change is searched for as "allowed by one, blocked by the other";
every model is decoded, replayed through the reference evaluator under both revisions, grouped
with every flow between the same two endpoint groups on the same protocol, and blocked
from the search, so that the report lists groups, not pod pairs.

A finding between existing pods also takes in every other source class whose flows to the
same destination changed in exactly the same way (same protocol, ports and responsible
rules), found by replaying one pod of each class through the evaluator: a rule that opens a
destination to a hundred source classes is one finding, not a hundred.
"""

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, replace

import z3

from netverify.encoding.classes import PodClass, is_single_pod, pod_identity
from netverify.encoding.cluster import ClusterEncoding
from netverify.encoding.policies import PolicyEncoding, namespace_is
from netverify.encoding.selectors import in_network
from netverify.encoding.terms import SymbolicEndpoint, SymbolicFlow, protocol_code
from netverify.encoding.universe import build_universe
from netverify.engine.scope import assumptions, scope_description
from netverify.engine.solver import SolverLimits, make_solver, unknown_reason
from netverify.engine.witness import readable_flow
from netverify.model import (
    NAMESPACE_NAME_LABEL,
    Cluster,
    Endpoint,
    Flow,
    FlowDecision,
    Invariant,
    InvariantKind,
    LoadedCluster,
    NamespaceScope,
    PodEndpoint,
    PodScope,
    PortRange,
    Protocol,
    RuleRef,
    Settings,
)
from netverify.model.diff import Change, DiffFinding, DiffReport, EndpointGroup
from netverify.semantics import evaluate

DEFAULT_MAX_FINDINGS = 100
MAX_GROUPING_ROUNDS = 8
"""Solver checks spent, per finding, dropping source classes that change on other ports."""


@dataclass(frozen=True)
class _ExternalGroup:
    """External addresses inside exactly the same of the universe's networks."""

    cells: tuple[bool, ...]


@dataclass(frozen=True)
class _NewPodGroup:
    """Pods that could be created in one namespace."""

    namespace: str


@dataclass(frozen=True)
class _ClassGroup:
    """The existing pods of one class (at one address segment, when its pods have several
    that ipBlocks may tell apart: dual stack, say)."""

    index: int
    segment: int | None = None


_GroupKey = _ExternalGroup | _NewPodGroup | _ClassGroup
"""Names an endpoint group of the search."""


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
        self.covered: dict[tuple[Change, Protocol, _GroupKey], set[int]] = {}
        """Per change, protocol and destination group: the source classes reported."""
        self.merged = _merged(base, head)
        universe = build_universe([self.merged, base], (), settings.pod_cidrs)
        self.encoding = ClusterEncoding(self.merged, settings, universe=universe)
        flow = self.encoding.flow
        base_flow = SymbolicFlow(
            source=self._with_base_namespace_labels(flow.source),
            destination=self._with_base_namespace_labels(flow.destination),
            protocol=flow.protocol,
            port=flow.port,
        )
        base_policies = PolicyEncoding(base.policies, universe, base_flow, settings)
        self.head_allowed = self.encoding.policies.allowed
        self.base_allowed = base_policies.allowed
        self.solver = make_solver(limits)
        self.solver.add(self.encoding.domain, z3.Not(self.encoding.self_traffic))
        for symbolic, base_symbolic in (
            (flow.source, base_flow.source),
            (flow.destination, base_flow.destination),
        ):
            self.solver.add(self._base_namespace_domain(symbolic, base_symbolic))
            if pods is PodScope.EXISTING:
                self.solver.add(self.encoding.existing_pod(symbolic))
            if namespaces is NamespaceScope.EXISTING:
                self.solver.add(self.encoding.existing_namespace(symbolic))

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
        now, before = (
            (self.head_allowed, self.base_allowed)
            if change is Change.ADDED
            else (self.base_allowed, self.head_allowed)
        )
        findings: list[DiffFinding] = []
        existing_first = z3.Bool(f"diff.{change.value}.existing_first")
        self.solver.push()
        try:
            self.solver.add(now, z3.Not(before))
            ends = (self.encoding.flow.source, self.encoding.flow.destination)
            self.solver.add(
                z3.Implies(existing_first, z3.And([self.encoding.existing_pod(e) for e in ends]))
            )
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
            return _ExternalGroup(tuple(endpoint.ip in n for n in self.encoding.universe.networks))
        pod_class = self._class_of(endpoint)
        if pod_class is None:
            return _NewPodGroup(endpoint.namespace.name)
        segment = None
        if len(pod_class.address_segments or ()) > 1 and endpoint.ip is not None:
            segment = self.encoding.universe.segment_of(endpoint.ip)
        return _ClassGroup(pod_class.index, segment)

    def _group_term(self, key: _GroupKey, end: SymbolicEndpoint) -> z3.BoolRef:
        """The symbolic endpoint is in the group `key` names."""
        match key:
            case _ExternalGroup(cells):
                networks = self.encoding.universe.networks
                return z3.And(
                    z3.Not(end.is_pod),
                    *(
                        in_network(end.ip, n) == inside
                        for n, inside in zip(networks, cells, strict=True)
                    ),
                )
            case _NewPodGroup(namespace):
                return z3.And(
                    end.is_pod,
                    end.pod_class == -1,
                    namespace_is(self.encoding.universe, end, namespace),
                )
            case _ClassGroup(index, segment):
                terms = [end.is_pod, end.pod_class == index]
                if segment is not None:
                    low, high = self.encoding.universe.segment_interval(segment)
                    terms += [end.ip >= low, end.ip <= high]
                return z3.And(terms)

    def _sources_term(
        self, source: _GroupKey | None, alike: Iterable[PodClass], end: SymbolicEndpoint
    ) -> z3.BoolRef:
        """The witness's source group (if given) or one of the classes `alike`."""
        terms = [] if source is None else [self._group_term(source, end)]
        classes = [end.pod_class == pod_class.index for pod_class in alike]
        if classes:
            terms.append(z3.And(end.is_pod, z3.Or(classes)))
        return z3.Or(terms)

    def _finding(self, change: Change, flow: Flow) -> DiffFinding:
        """The witness's finding, taking in the source classes alike; every flow it covers is
        then blocked from the search."""
        head_decision, base_decision = self._decisions(flow)
        if not _changed(change, head_decision, base_decision):
            raise _ReplayMismatch(
                f"the solver's {change.value} flow {flow.model_dump_json()} is not confirmed by "
                "the reference evaluator (a soundness bug; please report it)"
            )
        ports = self._changed_ports(flow, change)
        rules = _allowing_rules(head_decision if change is Change.ADDED else base_decision)
        symbolic = self.encoding.flow
        source, destination = self._group_key(flow.source), self._group_key(flow.destination)
        pair = z3.And(
            symbolic.protocol == protocol_code(flow.protocol),
            self._group_term(destination, symbolic.destination),
        )
        covered = self.covered.setdefault((change, flow.protocol, destination), set())
        alike = self._sources_alike(flow, change, ports, rules, covered)
        alike = self._same_ports_only(pair, alike, ports)
        if isinstance(source, _ClassGroup) and source.segment is None:
            covered.add(source.index)
        covered.update(pod_class.index for pod_class in alike)
        self.solver.add(z3.Not(z3.And(pair, self._sources_term(source, alike, symbolic.source))))
        return DiffFinding(
            change=change,
            source=self._group(flow.source),
            destination=self._group(flow.destination),
            protocol=flow.protocol,
            ports=ports,
            base=base_decision,
            head=head_decision,
            other_sources=tuple(_class_group(c, c.pods[0].labels) for c in alike),
        )

    def _same_ports_only(
        self, pair: z3.BoolRef, alike: list[PodClass], ports: tuple[PortRange, ...]
    ) -> list[PodClass]:
        """The classes of `alike` that change on no port outside `ports` either, asked of the
        solver (the evaluator would need a probe per port segment per class): each model
        found names a class to drop. Gives up grouping (returns []) after a few rounds or on
        a solver limit, which only makes the report longer."""
        symbolic = self.encoding.flow
        port = symbolic.port
        in_ports = z3.Or([z3.And(port >= r.start, port <= r.end) for r in ports])
        for _ in range(MAX_GROUPING_ROUNDS):
            if not alike:
                return alike
            self.solver.push()
            try:
                self.solver.add(
                    pair, z3.Not(in_ports), self._sources_term(None, alike, symbolic.source)
                )
                outcome = self.solver.check()
                if outcome == z3.unsat:
                    return alike
                if outcome != z3.sat:
                    return []
                odd = self.solver.model().eval(symbolic.source.pod_class).as_long()
            finally:
                self.solver.pop()
            alike = [pod_class for pod_class in alike if pod_class.index != odd]
        return []

    def _decisions(self, flow: Flow) -> tuple[FlowDecision, FlowDecision]:
        """The flow under HEAD and under BASE."""
        return self._decide(flow, in_head=True), self._decide(flow, in_head=False)

    def _decide(self, flow: Flow, in_head: bool) -> FlowDecision:
        """The reference evaluator's decision on the flow in HEAD or in BASE."""
        if in_head:
            return evaluate(self.head, flow, self.settings)
        return evaluate(self.base, self._as_in_base(flow), self.settings)

    def _sources_alike(
        self,
        flow: Flow,
        change: Change,
        ports: tuple[PortRange, ...],
        rules: tuple[tuple[RuleRef, ...], tuple[RuleRef, ...]],
        covered: set[int],
    ) -> list[PodClass]:
        """Other classes of existing pods whose flows to the witness's destination changed
        like the witness's on its ports, because of the same rules at the witness's port.

        One pod of each class is replayed through the evaluator (every pod of a class is
        decided alike) at one port per segment of `ports`; whether they change on other
        ports too is `_same_ports_only`'s question. Classes with several address segments are
        left to the search, which tells their addresses apart; classes an earlier finding
        reported towards the same destination group are skipped (`covered`).
        """
        witness_class = (
            self._class_of(flow.source) if isinstance(flow.source, PodEndpoint) else None
        )
        if witness_class is None or len(witness_class.address_segments or ()) > 1:
            return []
        destination = flow.destination
        destination_pod = destination.pod if isinstance(destination, PodEndpoint) else None
        alike = []
        for pod_class in self.encoding.classes:
            if (
                pod_class is witness_class
                or pod_class.index in covered
                or len(pod_class.address_segments or ()) > 1
            ):
                continue
            if is_single_pod(pod_class.pods) and pod_class.pods[0] is destination_pod:
                continue  # a pod's traffic to itself is never in a diff
            pod = next((p for p in pod_class.pods if p is not destination_pod), pod_class.pods[0])
            namespace = self.merged.namespace(pod_class.namespace)
            assert namespace is not None, "every pod's namespace is loaded or implied"
            candidate = flow.model_copy(
                update={
                    "source": PodEndpoint(
                        namespace=namespace, pod=pod, ip=pod.ips[0] if pod.ips else None
                    )
                }
            )
            # Most classes are blocked where the change allows: one evaluation tells.
            allowing = self._decide(candidate, in_head=change is Change.ADDED)
            if not allowing.allowed or _allowing_rules(allowing) != rules:
                continue
            if (
                not self._decide(candidate, in_head=change is Change.REMOVED).allowed
                and self._changed_ports(candidate, change, within=ports) == ports
            ):
                alike.append(pod_class)
        return alike

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

    def _group(self, endpoint: Endpoint) -> EndpointGroup:
        if not isinstance(endpoint, PodEndpoint):
            return EndpointGroup(kind="external")
        pod_class = self._class_of(endpoint)
        if pod_class is None:
            return EndpointGroup(
                kind="new-pod", namespace=endpoint.namespace.name, labels=endpoint.pod.labels
            )
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

    def _changed_ports(
        self, flow: Flow, change: Change, within: tuple[PortRange, ...] = ()
    ) -> tuple[PortRange, ...]:
        """Every port (of `within`, if given) on which the change holds for the flow's two
        endpoints (for a group of existing pods, for the whole group).

        Verdicts only change where a policy's range starts or ends or a named port lies, so
        one port per segment between those points stands for the whole segment.
        """
        cuts = {1, 65536}
        for limit in within:
            cuts |= {limit.start, limit.end + 1}
        # Single ports of `within` are a segment each already.
        if not within or any(limit.start != limit.end for limit in within):
            cuts |= self._port_cuts(flow)
        points = sorted(cut for cut in cuts if 1 <= cut <= 65536)
        ranges: list[PortRange] = []
        for start, end in itertools.pairwise(points):
            if within and not any(limit.start <= start <= limit.end for limit in within):
                continue
            probe = flow.model_copy(update={"port": start})
            if (
                self._decide(probe, in_head=change is Change.ADDED).allowed
                and not self._decide(probe, in_head=change is Change.REMOVED).allowed
            ):
                if ranges and ranges[-1].end == start - 1:
                    ranges[-1] = PortRange(start=ranges[-1].start, end=end - 1)
                else:
                    ranges.append(PortRange(start=start, end=end - 1))
        return tuple(ranges)


def _changed(change: Change, head: FlowDecision, base: FlowDecision) -> bool:
    """The flow is allowed where `change` says it is now and blocked where it was."""
    wanted = change is Change.ADDED
    return head.allowed == wanted and base.allowed != wanted


def _allowing_rules(decision: FlowDecision) -> tuple[tuple[RuleRef, ...], tuple[RuleRef, ...]]:
    """The rules that allow an allowed flow, egress and ingress."""
    return decision.egress.allowed_by, decision.ingress.allowed_by


def _class_group(pod_class: PodClass, labels: dict[str, str]) -> EndpointGroup:
    """The class's pods, described with `labels` (one pod's: the class shares the codes of
    the labels that matter, not every label value)."""
    return EndpointGroup(
        kind="pods",
        namespace=pod_class.namespace,
        pods=tuple(pod.name or "" for pod in pod_class.pods),
        labels=labels,
    )
