"""BASE and HEAD as the reference evaluator sees them: one flow decided under each side.

Everything the diff claims about a concrete flow (it changed, on which ports, by which
rules) is the evaluator's word, asked here (on which ports: without admin policies, its
rules in one pass, `semantics.allowed_ports`); the solver and the bit sets only propose.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, partial
from typing import NamedTuple

from netverify.encoding.classes import pod_identity
from netverify.engine.diff.causes import change_cause, policy_in
from netverify.engine.diff.classes import port_ranges
from netverify.engine.diff.flowports import named_number, ports_but, with_named
from netverify.engine.replay import ReplayMismatch
from netverify.model import (
    Cluster,
    Direction,
    Endpoint,
    Flow,
    FlowDecision,
    NetworkPolicy,
    Pod,
    PodEndpoint,
    PolicyRule,
    PortRange,
    Protocol,
    RuleRef,
    Settings,
    SideDecision,
    pod_at_first_address,
)
from netverify.model.diff import Change, DiffCause
from netverify.semantics import evaluate
from netverify.semantics.evaluator import placements, possible_verdicts
from netverify.semantics.matching import policy_selects, rule_peers_match
from netverify.semantics.portsets import PortSet, allowed_ports, ports_where


class FlowKind(NamedTuple):
    """What a product's flows share but their ends and ports: a product covers flows of
    one kind (`SymbolicDiff.product`), and a pair of groups is reported once per kind."""

    change: Change
    protocol: Protocol
    same_node: bool
    """Node-local (`Flow.same_node`): a pair's node-local flows may change on other ports
    than its flows across nodes."""


@dataclass(frozen=True)
class ChangedFlow:
    """A witness of one change, with both revisions' decisions and every port on which it
    changed: what each grouping step holds candidates against, and what a finding reports
    (one value instead of the same five arguments handed down every step)."""

    change: Change
    flow: Flow
    head: FlowDecision
    base: FlowDecision
    ports: tuple[PortRange, ...]
    cause: DiffCause | None
    named_port: tuple[str, Protocol] | None = None
    """The destination's named port (name, protocol) the change follows, where the
    destination is a pod that could exist: the flow changed on exactly that port, whatever
    its number (`ports` is the witness's number), as a rule that names the port says."""
    named_within: tuple[PortRange, ...] = ()
    """Where the change follows `named_port` only while it is numbered inside a range a
    rule opened (a rule on a range to pods that name the port in another rule): those
    numbers. Empty: any number (but where another rule decides the flow)."""
    excepted: tuple[tuple[str, Protocol], ...] = ()
    """Named ports (name, protocol) of the destination, a pod that could exist, whose
    numbers are no changed port: the flow changed on `ports` but its destination's numbers
    for these (another rule on the named port allows them in both revisions)."""

    @property
    def protocol(self) -> Protocol:
        return self.flow.protocol

    @property
    def kind(self) -> FlowKind:
        return FlowKind(self.change, self.flow.protocol, self.flow.same_node)

    @property
    def allowing(self) -> FlowDecision:
        """The decision of the revision that allows the flow."""
        return self.head if self.change is Change.ADDED else self.base


@dataclass(frozen=True)
class Revisions:
    """Two revisions of a cluster and the settings both are judged by: the one place that
    knows a flow's endpoints carry HEAD's namespace objects and must be moved to BASE's
    (their labels may differ) before BASE decides it."""

    base: Cluster
    head: Cluster
    settings: Settings

    @cached_property
    def merged(self) -> Cluster:
        """HEAD's namespaces and pods plus those only BASE has; HEAD's policies; the objects
        either revision leaves out of its verdicts."""
        base, head = self.base, self.head
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
                "unenforced": (
                    *head.unenforced,
                    *(ref for ref in base.unenforced if ref not in head.unenforced),
                ),
            }
        )

    @cached_property
    def tiered(self) -> bool:
        """Either revision has admin policies."""
        return bool(self.base.admin_policies or self.head.admin_policies)

    @cached_property
    def tiers_changed(self) -> bool:
        """The admin policies or the nodes (which `nodes` peers select) differ: then a flow
        of any namespace may have changed."""
        # NOTE: both are loaded sorted (admin policies by kind and name, nodes by name).
        return (self.base.admin_policies, self.base.nodes) != (
            self.head.admin_policies,
            self.head.nodes,
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

    def endpoint(self, pod: Pod) -> PodEndpoint:
        """An existing pod of either revision as a flow endpoint, at its first address."""
        namespace = self.merged.namespace(pod.namespace)
        assert namespace is not None, "every pod's namespace is loaded or implied"
        return pod_at_first_address(namespace, pod)

    def decide(self, flow: Flow, in_head: bool) -> FlowDecision:
        """The reference evaluator's decision on the flow in HEAD or in BASE."""
        if in_head:
            return evaluate(self.head, flow, self.settings)
        return evaluate(self.base, self.as_in_base(flow), self.settings)

    def as_in_base(self, flow: Flow) -> Flow:
        """The flow with BASE's namespace objects (their labels may differ)."""
        return flow.model_copy(
            update={
                "source": self.endpoint_in_base(flow.source),
                "destination": self.endpoint_in_base(flow.destination),
            }
        )

    def endpoint_in_base(self, endpoint: Endpoint) -> Endpoint:
        """The endpoint with BASE's object of its namespace, where BASE has one."""
        if not isinstance(endpoint, PodEndpoint):
            return endpoint
        namespace = self.base.namespace(endpoint.namespace.name)
        if namespace is None or namespace is endpoint.namespace or namespace == endpoint.namespace:
            return endpoint
        return endpoint.model_copy(update={"namespace": namespace})

    def replayed(self, change: Change, flow: Flow) -> ChangedFlow:
        """The witness under HEAD and BASE, which must show the change, with the ports on
        which it changed."""
        head = self.decide(flow, in_head=True)
        base = self.decide(flow, in_head=False)
        if not self.changes_at(flow, change, flow.port):
            raise ReplayMismatch(
                f"the {change.value} flow {flow.model_dump_json()} is not confirmed by "
                "the reference evaluator (a soundness bug; please report it)"
            )
        ports = self.changed_ports(flow, change)
        cause = change_cause(self.base, self.head, change, head, base)
        return ChangedFlow(change, flow, head, base, ports, cause)

    def changes_at(self, flow: Flow, change: Change, port: int) -> bool:
        """The flow, moved to `port`, is allowed now and was blocked before, in every order
        of admin policies the API leaves open (a change is one in every order; where it
        depends on the order, the report says so instead). The evaluator's word, asked of
        the revision that allows first: it usually settles it."""
        probe = flow.model_copy(update={"port": port})
        now = change is Change.ADDED
        return self.verdicts(probe, in_head=now) == {True} and self.verdicts(
            probe, in_head=not now
        ) == {False}

    def verdicts(self, flow: Flow, in_head: bool) -> set[bool]:
        """The flow's verdicts in HEAD or in BASE under every order of admin policies the
        API allows: one, unless the order decides the flow."""
        if in_head:
            return set(possible_verdicts(self.head, flow, self.settings))
        return set(possible_verdicts(self.base, self.as_in_base(flow), self.settings))

    def changes_alike(self, witness: ChangedFlow, probe: Flow) -> bool:
        """The probe (the witness with one end replaced) changes like the witness: allowed
        by the same rules at its port, blocked before, and changed at both ends of every
        range of its ports (a cheap filter: whether it changes on every port between them
        is the solver's question). The probe's ends must be able to have the witness's
        placement: the solver, which knows no flow of the other placement, would confirm
        the pair vacuously (two pods bound to one node, one of them a hostNetwork pod,
        are never across nodes). Each named port the witness's change leaves out
        (`excepted`) must take its number out of the probe's change too (`_leaves_out`)."""
        change = witness.change
        if probe not in placements(probe):
            return False
        expected = self.expected_ports(witness, probe)
        ends = sorted({port for r in expected for port in (r.start, r.end)} - {probe.port})
        known = self.changed_port_set(probe, change)
        changes = (
            known.__contains__ if known is not None else partial(self.changes_at, probe, change)
        )
        return (
            changes(probe.port)
            and allowing_rules(self.decide(probe, in_head=change is Change.ADDED))
            == allowing_rules(witness.allowing)
            and all(changes(port) for port in ends)
            and self._leaves_out(witness, probe, ends[0] if ends else probe.port)
        )

    def _leaves_out(self, witness: ChangedFlow, probe: Flow, spare: int) -> bool:
        """Each named port the witness's change leaves out (`excepted`) takes its number
        out of the probe's change: the number the probe's destination gives it, else
        `spare` (a port of the change) given to it."""
        if not witness.excepted:
            return True
        if not isinstance(probe.destination, PodEndpoint):
            return False
        for named in witness.excepted:
            number = named_number(probe.destination, named)
            if number is None:
                if self.changes_at(with_named(probe, named, spare), witness.change, spare):
                    return False
            elif self.changes_at(probe, witness.change, number):
                return False
        return True

    def expected_ports(self, witness: ChangedFlow, flow: Flow) -> tuple[PortRange, ...]:
        """The ports on which a flow that changes like the witness changes: the witness's
        but the flow's destination's numbers for the `excepted` named ports; or the flow's
        destination's number for the witness's `named_port` (none where the destination
        does not define it, or numbers it outside `named_within`)."""
        if witness.named_port is None:
            numbers = (named_number(flow.destination, named) for named in witness.excepted)
            return ports_but(witness.ports, {n for n in numbers if n is not None})
        number = named_number(flow.destination, witness.named_port)
        if number is None or (
            witness.named_within
            and not any(r.start <= number <= r.end for r in witness.named_within)
        ):
            return ()
        return (PortRange(start=number, end=number),)

    def changed_ports(self, flow: Flow, change: Change) -> tuple[PortRange, ...]:
        """Every port on which the change holds for the flow's two endpoints (for a group of
        existing pods, for the whole group).

        Verdicts only change at `port_cuts` of the rules of either revision's policies of
        the flow's namespaces (only the source's egress policies and the destination's
        ingress policies decide) and admin policies, and the destination's container
        ports, so one port per segment between those points stands for the whole segment.
        Without admin policies, `changed_port_set` finds them in one pass instead.
        """
        known = self.changed_port_set(flow, change)
        if known is None:
            test = partial(self.changes_at, flow, change)
            known = ports_where(test, self.deciding_ranges(flow), flow.destination)
        return port_ranges(known.ranges())

    def changed_port_set(self, flow: Flow, change: Change) -> PortSet | None:
        """The ports on which the change holds for the flow: those the revision that allows
        it allows (`allowed_ports`) but the other does not; None where admin policies leave
        it to `changes_at`, port by port."""
        now = change is Change.ADDED
        allowing = self.allowed_ports(flow, in_head=now)
        if not allowing:
            return allowing
        blocking = self.allowed_ports(flow, in_head=not now)
        return None if blocking is None else allowing - blocking

    def allowed_ports(self, flow: Flow, in_head: bool) -> PortSet | None:
        """The ports on which HEAD or BASE allows the flow (`semantics.allowed_ports`)."""
        if in_head:
            return allowed_ports(self.head, flow, self.settings)
        return allowed_ports(self.base, self.as_in_base(flow), self.settings)

    def deciding_ranges(self, flow: Flow) -> list[PortRange]:
        """The port ranges at whose ends the flow's verdicts can change: those of the rules
        of either revision's policies of the flow's namespaces and admin policies."""
        namespaces = {
            end.namespace.name
            for end in (flow.source, flow.destination)
            if isinstance(end, PodEndpoint)
        }
        rules = [
            rule
            for cluster in (self.base, self.head)
            for policies in (
                [p for ns in namespaces for p in cluster.policies_in(ns)],
                cluster.admin_policies,
            )
            for policy in policies
            for rule in (*policy.ingress, *policy.egress)
        ]
        return [entry.port_range for rule in rules for entry in rule.ports if entry.port_range]

    def rule_test(self, witness: ChangedFlow, at_source: bool) -> Callable[[Endpoint], bool]:
        """A cheap test every endpoint must pass to be allowed, at that end, by exactly the
        witness's rules: the policy of each rule of the end's own side selects it; each rule
        of the other side has a peer that matches it (or none at all)."""
        change = witness.change
        cluster = self.head if change is Change.ADDED else self.base
        own, other = _sides(witness, at_source)
        selecting = [_rule(cluster, ref)[0] for ref in own.allowed_by]
        admitting = [_rule(cluster, ref) for ref in other.allowed_by]

        def test(endpoint: Endpoint) -> bool:
            if change is Change.REMOVED:
                endpoint = self.endpoint_in_base(endpoint)
            return all(policy_selects(policy, endpoint) for policy in selecting) and all(
                rule_peers_match(rule, policy.namespace, endpoint, self.settings)
                for policy, rule in admitting
            )

        return test

    def selecting_namespaces(self, witness: ChangedFlow, at_source: bool) -> set[str]:
        """The namespaces of the policies whose rules allow the witness at that end: every
        endpoint `rule_test` passes is a pod of each (a namespace's pods are all that need
        testing), and none when they are two."""
        own, _ = _sides(witness, at_source)
        return {ref.policy.namespace or "" for ref in own.allowed_by}

    def mentioned(self, flow: Flow) -> tuple[set[str], set[str]]:
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
            probe = flow if cluster is self.head else self.as_in_base(flow)
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

    def label_combinations(self, flow: Flow) -> list[dict[str, str]]:
        """The `matchLabels` of two keys or more of every pod selector of the policies of
        the flow's namespaces, in either revision, once each: the combinations of labels a
        pod that could exist may be odd by."""
        namespaces = {
            e.namespace.name for e in (flow.source, flow.destination) if isinstance(e, PodEndpoint)
        }
        found: dict[str, dict[str, str]] = {}
        for cluster in (self.base, self.head):
            for policy in (
                p for namespace in sorted(namespaces) for p in cluster.policies_in(namespace)
            ):
                rules = (*policy.ingress, *policy.egress)
                peers = [peer.pod_selector for rule in rules for peer in rule.peers]
                for selector in (policy.pod_selector, *peers):
                    if selector is not None and len(selector.match_labels) > 1:
                        labels = dict(sorted(selector.match_labels.items()))
                        found.setdefault(repr(labels), labels)
        return list(found.values())


def allowing_rules(decision: FlowDecision) -> tuple[tuple[RuleRef, ...], tuple[RuleRef, ...]]:
    """The rules that allow an allowed flow, egress and ingress (an admin Accept included)."""
    return (_side_rules(decision.egress), _side_rules(decision.ingress))


def _side_rules(side: SideDecision) -> tuple[RuleRef, ...]:
    admin = () if side.admin_rule is None else (side.admin_rule.rule,)
    return (*side.allowed_by, *admin)


def _sides(witness: ChangedFlow, at_source: bool) -> tuple[SideDecision, SideDecision]:
    """The allowing decision's side at the end `at_source` names, and the other side."""
    allowing = witness.allowing
    if at_source:
        return allowing.egress, allowing.ingress
    return allowing.ingress, allowing.egress


def _rule(cluster: Cluster, ref: RuleRef) -> tuple[NetworkPolicy, PolicyRule]:
    """The policy and the rule a reference names (the reference comes from the evaluator
    on `cluster`)."""
    policy = policy_in(cluster, ref.policy)
    assert isinstance(policy, NetworkPolicy), "the evaluator names the cluster's own policies"
    return policy, policy.rules(ref.direction)[ref.index]
