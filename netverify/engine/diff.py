"""Semantic diff: which flows one revision allows and the other does not.

Both revisions are judged on one symbolic flow: the endpoints are the pods of either
revision (or, with `pods: any`, every pod that could exist), each namespace carries each
revision's own labels. Each change is searched for as "allowed by one, blocked by the other";
every model is decoded, replayed through the reference evaluator under both revisions, grouped
with every flow between the same two endpoint groups on the same protocol, and blocked
from the search, so that the report lists groups, not pod pairs.
"""

import itertools
from dataclasses import replace

import z3

from netverify.encoding.classes import PodClass, pod_identity
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
    Invariant,
    InvariantKind,
    LoadedCluster,
    NamespaceScope,
    PodEndpoint,
    PodScope,
    PortRange,
    Settings,
)
from netverify.model.diff import Change, DiffFinding, DiffReport, EndpointGroup
from netverify.semantics import evaluate

DEFAULT_MAX_FINDINGS = 100


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
                change, max_findings - len(findings)
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

    def changes(self, change: Change, budget: int) -> tuple[list[DiffFinding], bool, str | None]:
        """Findings of one kind, the search complete or not, and why not."""
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
                        return findings, False, f"stopped after {budget} findings"
                    self.solver.push()
                    self.solver.add(*assumptions)
                    self.solver.check()
                    flow = readable_flow(
                        self.solver,
                        self.encoding,
                        prefer_existing=False,
                        tidy_labels=self.pods is PodScope.ANY,
                    )
                    self.solver.pop()
                    findings.append(self._finding(change, flow))
                    self.solver.add(z3.Not(self._group_constraint(flow)))
            return findings, True, None
        finally:
            self.solver.pop()

    def _group_constraint(self, flow: Flow) -> z3.BoolRef:
        """All flows between the witness's two endpoint groups on its protocol."""
        symbolic = self.encoding.flow
        terms = [symbolic.protocol == protocol_code(flow.protocol)]
        pairs = ((flow.source, symbolic.source), (flow.destination, symbolic.destination))
        for endpoint, end in pairs:
            if not isinstance(endpoint, PodEndpoint):
                terms.append(z3.Not(end.is_pod))
                terms += [
                    in_network(end.ip, network) == (endpoint.ip in network)
                    for network in self.encoding.universe.networks
                ]
                continue
            pod_class = self._class_of(endpoint)
            terms.append(end.is_pod)
            if pod_class is None:
                terms.append(end.pod_class == -1)
                terms.append(namespace_is(self.encoding.universe, end, endpoint.namespace.name))
            else:
                terms.append(end.pod_class == pod_class.index)
        return z3.And(terms)

    def _finding(self, change: Change, flow: Flow) -> DiffFinding:
        head_decision = evaluate(self.head, flow, self.settings)
        base_decision = evaluate(self.base, self._as_in_base(flow), self.settings)
        wanted = change is Change.ADDED
        if head_decision.allowed != wanted or base_decision.allowed == wanted:
            raise _ReplayMismatch(
                f"the solver's {change.value} flow {flow.model_dump_json()} is not confirmed by "
                "the reference evaluator (a soundness bug; please report it)"
            )
        return DiffFinding(
            change=change,
            source=self._group(flow.source),
            destination=self._group(flow.destination),
            protocol=flow.protocol,
            ports=self._changed_ports(flow, change),
            base=base_decision,
            head=head_decision,
        )

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
        return EndpointGroup(
            kind="pods",
            namespace=pod_class.namespace,
            pods=tuple(pod.name or "" for pod in pod_class.pods),
            labels=endpoint.pod.labels,
        )

    def _changed_ports(self, flow: Flow, change: Change) -> tuple[PortRange, ...]:
        """Every port on which the change holds for the witness's two endpoints (for a group
        of existing pods, for the whole group).

        Verdicts only change where a policy's range starts or ends or a named port lies, so
        one port per segment between those points stands for the whole segment.
        """
        cuts = {1, 65536}
        for cluster in (self.base, self.head):
            for policy in cluster.policies:
                for rule in (*policy.ingress, *policy.egress):
                    for entry in rule.ports:
                        if entry.port_range is not None:
                            cuts |= {entry.port_range.start, entry.port_range.end + 1}
        if isinstance(flow.destination, PodEndpoint):
            for port in flow.destination.pod.ports:
                cuts |= {port.port, port.port + 1}
        points = sorted(cut for cut in cuts if 1 <= cut <= 65536)
        ranges: list[PortRange] = []
        for start, end in itertools.pairwise(points):
            probe = flow.model_copy(update={"port": start})
            now = evaluate(self.head, probe, self.settings).allowed
            before = evaluate(self.base, self._as_in_base(probe), self.settings).allowed
            if change is Change.REMOVED:
                now, before = before, now
            if now and not before:
                if ranges and ranges[-1].end == start - 1:
                    ranges[-1] = PortRange(start=ranges[-1].start, end=end - 1)
                else:
                    ranges.append(PortRange(start=start, end=end - 1))
        return tuple(ranges)
