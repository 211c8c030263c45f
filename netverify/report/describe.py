"""Shared wording for every format: endpoints, flows, the reasons on each side, invariant
results, diff findings and matrix witnesses."""

from collections import Counter

from netverify.model import (
    NAMESPACE_NAME_LABEL,
    AdminMatch,
    Direction,
    Endpoint,
    Explanation,
    Flow,
    FlowDecision,
    InvariantResult,
    ObjectRef,
    PodEndpoint,
    PortRange,
    Protocol,
    RuleRef,
    SideDecision,
    SourceMap,
    Status,
    ViolationFinding,
    ViolationFindings,
    Witness,
    short_name,
)
from netverify.model.diff import Change, DiffFinding, DiffReport, EndpointGroup
from netverify.model.matrix import MatrixWitness


def _labels(labels: dict[str, str]) -> str:
    """`k=v,k2=v2`, sorted by key."""
    return ",".join(f"{key}={value}" for key, value in sorted(labels.items()))


def describe_endpoint(endpoint: Endpoint) -> str:
    """`ns/pod (k=v)`, `ns/<new pod> (k=v)`, `<new namespace ns> {k=v}/<new pod> (k=v)` (the
    labels that matter of a namespace that could be created; its name label repeats its
    name) or a bare address."""
    if not isinstance(endpoint, PodEndpoint):
        return str(endpoint.ip)
    pod = endpoint.pod
    namespace = endpoint.namespace.name
    if not endpoint.namespace.exists:
        namespace_labels = _labels(
            {k: v for k, v in endpoint.namespace.labels.items() if k != NAMESPACE_NAME_LABEL}
        )
        namespace = f"<new namespace {namespace}>"
        if namespace_labels:
            namespace += f" {{{namespace_labels}}}"
    name = pod.name if pod.name is not None else "<new pod>"
    labels = _labels(pod.labels)
    text = f"{namespace}/{name}"
    if labels:
        text += f" ({labels})"
    if endpoint.ip is not None:
        text += f" [{endpoint.ip}]"
    return text


def describe_flow(flow: Flow) -> str:
    """One line: `src -> dst PROTO/PORT`, and `on the same node` for node-local traffic."""
    text = (
        f"{describe_endpoint(flow.source)} -> {describe_endpoint(flow.destination)} "
        f"{flow.protocol.value}/{flow.port}"
    )
    return f"{text} on the same node" if flow.same_node else text


def unaddressed_note(explanation: Explanation) -> str | None:
    """That the verdict rests on ends without a known address matching no ipBlock or
    networks peer (prove's assumption without `podCIDRs`), and what it would be otherwise;
    None when it does not."""
    ends = explanation.unaddressed
    if not ends:
        return None
    other = "blocked" if explanation.allowed else "allowed"
    one = len(ends) == 1
    return (
        f"{' and '.join(map(describe_endpoint, ends))} {'has' if one else 'have'} no known "
        f"address: taken to match no ipBlock or networks peer, though at some "
        f"{'address' if one else 'addresses'} the flow would be {other} (set podCIDRs in the "
        f"settings to decide by {'its address' if one else 'their addresses'})"
    )


def describe_replicas(flow: Flow) -> str | None:
    """Why a flow between two replicas of one workload may not exist: the workload runs one
    pod, or the manifests do not say how many (a workload stands for all its replicas)."""
    source, destination = flow.source, flow.destination
    if not (isinstance(source, PodEndpoint) and isinstance(destination, PodEndpoint)):
        return None
    pod = source.pod
    if pod.kind == "Pod" or pod.name is None or pod.identity != destination.pod.identity:
        return None
    if pod.replicas is not None and pod.replicas > 1:
        return None
    return (
        f"between two replicas of {pod.kind} {pod.namespace}/{pod.name}: "
        "assumes it runs more than one"
    )


def describe_node_local(decision: FlowDecision) -> str:
    """Why node-local traffic is allowed (or, blocked by an admin policy, that NetworkPolicy
    alone would not block it), naming the end that is the node."""
    flow = decision.flow
    node = next(
        end.pod
        for end in (flow.source, flow.destination)
        if isinstance(end, PodEndpoint) and end.pod.host_network
    )
    if not decision.allowed:
        return (
            f"node-local: {node.namespace}/{node.name} is a hostNetwork pod on the same node; "
            "NetworkPolicy never blocks such traffic, but admin policies do"
        )
    return (
        f"node-local: allowed ({node.namespace}/{node.name} is a hostNetwork pod, so its "
        "traffic is its node's, and traffic between a node and the pods on it is always "
        "allowed, whatever the NetworkPolicies say)"
    )


def _located(text: str, span: object) -> str:
    return f"{text} ({span})" if span is not None else text


def describe_policy(ref: ObjectRef, sources: SourceMap) -> str:
    return _located(f"{ref.namespace}/{ref.name}", sources.of_object(ref))


def describe_rule(ref: RuleRef, sources: SourceMap, peer: int | None = None) -> str:
    """`ns/policy ingress[0]` at its file:line; with `peer`, the entry that matched too
    (`ingress[0] from[1]`)."""
    name = f"{ref.policy.namespace}/{ref.policy.name} {ref.direction.value.lower()}[{ref.index}]"
    if peer is not None:
        name += f" {'from' if ref.direction is Direction.INGRESS else 'to'}[{peer}]"
    return _located(name, sources.of_rule(ref))


def admitting_peers(side: SideDecision) -> tuple[int | None, ...]:
    """The matching `from`/`to` entry of each rule of `side.allowed_by` (None: unknown, or
    a rule without entries)."""
    return side.allowed_by_peer or (None,) * len(side.allowed_by)


def describe_admin_rule(match: AdminMatch, sources: SourceMap) -> str:
    """`cnp/NAME egress[1] "rule-name" Deny (file:line)`."""
    ref = match.rule
    text = f"{short_name(ref.policy)} {ref.direction.value.lower()}[{ref.index}]"
    if match.name:
        text += f' "{match.name}"'
    return _located(f"{text} {match.action.value}", sources.of_rule(ref))


def describe_side(side: SideDecision, decision: FlowDecision, sources: SourceMap) -> str:
    """Why one side allows or blocks, naming policies and rules with file:line; an Admin
    tier Pass that led there comes first (`admin tier: ... Pass -> ...`)."""
    text = _side_reason(side, decision, sources)
    if side.passed_by is None or decision.self_traffic:
        return text
    head, _, reason = text.partition(": ")
    return f"{head}: admin tier: {describe_admin_rule(side.passed_by, sources)} -> {reason}"


def _side_reason(side: SideDecision, decision: FlowDecision, sources: SourceMap) -> str:
    direction = side.direction.value.lower()
    endpoint = decision.flow.destination if direction == "ingress" else decision.flow.source
    if decision.self_traffic:
        return f"{direction}: allowed (a pod's traffic to itself is always allowed)"
    if not side.governed:
        what = (
            "an external address"
            if not isinstance(endpoint, PodEndpoint)
            else "a hostNetwork pod (outside NetworkPolicy)"
        )
        return f"{direction}: allowed ({what}: no policy applies)"
    if side.decided_by is None:
        return f"{direction}: allowed (no policy isolates it for {direction})"
    if side.admin_rule is not None:
        verdict = "allowed by" if side.allowed else "BLOCKED by"
        tier = side.decided_by.value.lower()
        return f"{direction}: {verdict} {tier}: {describe_admin_rule(side.admin_rule, sources)}"
    if side.allowed:
        rules = "; ".join(
            describe_rule(rule, sources, peer)
            for rule, peer in zip(side.allowed_by, admitting_peers(side), strict=True)
        )
        return f"{direction}: allowed by {rules}"
    policies = "; ".join(describe_policy(policy, sources) for policy in side.isolated_by)
    return f"{direction}: BLOCKED: isolated by {policies}; no rule admits this flow"


def witness_label(witness: Witness) -> str:
    return "an allowed flow" if witness.decision.allowed else "a blocked flow"


def result_message(result: InvariantResult) -> str:
    """One line: `[kind] name: status`, then the witness flow or the reason, if any."""
    head = f"[{result.kind.value}] {result.name}: {result.status.value}"
    witness = result.counterexample
    if witness is None:
        return head + (f": {result.reason}" if result.reason else "")
    return head + f": {witness_label(witness)}: {describe_flow(witness.decision.flow)}"


def _port_rule(rule: str) -> str:
    """A new pod's named port rule as text: `= 8443`, `= the flow's port`, `is one of the
    flow's ports`, `undefined or not ...`, `in 8081-8090`."""
    if rule.isdigit() or rule.startswith("the "):
        return f"= {rule}"
    if rule.startswith("one of "):
        return f"is {rule}"
    return rule


def describe_group(group: EndpointGroup) -> str:
    labels = ", ".join(
        part
        for part in (
            _labels(group.labels),
            *(f"no {key}" for key in sorted(group.labels_absent)),
            *(f"{k} not in {{{', '.join(v)}}}" for k, v in sorted(group.labels_not_in.items())),
            *(f"not {_labels(c)}" for c in group.except_labels),
            *(
                f"port {name} {_port_rule(rule)}"
                for name, rule in sorted(group.named_ports.items())
            ),
        )
        if part
    )
    suffix = f" ({labels})" if labels else ""
    match group.kind:
        case "external":
            return "external addresses"
        case "new-pod":
            return f"{_namespace_of(group)}/<new pod>{suffix}"
        case _:
            shown = ", ".join(group.pods[:3]) + (", ..." if len(group.pods) > 3 else "")
            count = f" [{len(group.pods)} pods]" if len(group.pods) > 1 else ""
            return f"{group.namespace}/{{{shown}}}{count}{suffix}"


def _namespace_of(group: EndpointGroup) -> str:
    if group.new_namespace:
        return f"<new namespace {group.namespace}>"
    return group.namespace or "external addresses"


def describe_ports(ports: tuple[PortRange, ...]) -> str:
    return ",".join(
        str(port.start) if port.start == port.end else f"{port.start}-{port.end}" for port in ports
    )


def responsible_rules(finding: DiffFinding) -> list[RuleRef]:
    """The rules that allow the flow where it is allowed (HEAD for added, BASE for removed)."""
    decision = finding.head if finding.change is Change.ADDED else finding.base
    return [*decision.egress.allowed_by, *decision.ingress.allowed_by]


def sources_of(finding: DiffFinding, report: DiffReport) -> SourceMap:
    return report.head_sources if finding.change is Change.ADDED else report.base_sources


MAX_NAMESPACES_SHOWN = 8


GroupedFlows = DiffFinding | ViolationFinding
"""A finding of `diff` or of `prove --all`: groups of sources and destinations, ports."""


def findings_summary(found: ViolationFindings) -> str:
    """How many findings `prove --all` lists, and whether they are every violating flow
    (a violating flow no policy decides, such as node-local traffic, is not listed: the
    findings are then incomplete, saying so)."""
    count = counted(len(found.findings), "finding")
    if found.complete:
        verb = "covers" if len(found.findings) == 1 else "cover"
        return f"{count} {verb} every violating flow"
    return f"{count} (incomplete: {found.incomplete_reason})"


def finding_title(finding: GroupedFlows) -> str:
    """`source -> destination PORTS`; with further destination groups, a comma before the
    ports (`... and 2 more destination groups, every protocol, every port`); `on the same
    node` for a finding of node-local flows only (the same pair may change otherwise
    across nodes, in another finding)."""
    more = _more(finding.other_destinations, "destination")
    return (
        f"{describe_group(finding.source)}{_more(finding.other_sources, 'source')} -> "
        f"{describe_group(finding.destination)}{more}{',' if more else ''} "
        f"{_finding_ports(finding)}{' on the same node' if only_node_local(finding) else ''}"
    )


def only_node_local(finding: GroupedFlows) -> bool:
    """The finding's flows are node-local only (see `DiffFinding.also_node_local`)."""
    witness = finding.head if isinstance(finding, DiffFinding) else finding.witness.decision
    return witness.node_local


def _finding_ports(finding: GroupedFlows) -> str:
    """The finding's protocols and ports; a named port the change follows, or named ports
    it leaves out, as a person says them: `TCP, the destination's port redis (6379 for the
    witness)`, `TCP/8081-8090 except the destination's port http`."""
    if finding.named_port is None:
        ports = describe_protocols_ports(finding.protocols, finding.ports)
        excepted = finding.except_named_ports
        if not excepted:
            return ports
        plural = "s" if len(excepted) > 1 else ""
        return f"{ports} except the destination's port{plural} {' and '.join(excepted)}"
    protocols = _protocols(finding.protocols)
    return (
        f"{protocols}, the destination's port {finding.named_port} "
        f"({describe_ports(finding.ports)} for the witness)"
    )


def describe_protocols_ports(protocols: tuple[Protocol, ...], ports: tuple[PortRange, ...]) -> str:
    """`TCP/80` for one protocol; several as a person says them: `TCP and UDP 53`, `every
    protocol, every port`."""
    if len(protocols) == 1:
        return f"{protocols[0].value}/{describe_ports(ports)}"
    every = set(protocols) == set(Protocol)
    named = "every protocol," if every else _protocols(protocols)
    whole = [(r.start, r.end) for r in ports] == [(1, 65535)]
    return f"{named} {'every port' if whole else describe_ports(ports)}"


def _protocols(protocols: tuple[Protocol, ...]) -> str:
    """`TCP and UDP`, always in that order (TCP, UDP, SCTP), whichever the witness's."""
    order = list(Protocol)
    return " and ".join(p.value for p in sorted(protocols, key=order.index))


def _more(others: tuple[EndpointGroup, ...], end: str) -> str:
    return f" and {counted(len(others), f'more {end} group')}" if others else ""


MAX_NEW_POD_GROUPS_SHOWN = 4
"""Further groups of new pods are each described up to this many (they differ by what they
ask of labels and ports, which a count per namespace hides)."""


def other_groups_lines(finding: GroupedFlows) -> list[str]:
    """The finding's further source and destination groups, counted per namespace (the
    first few named); groups of new pods, where few, each described (and only described
    when they are all there is: a count of "1 group in client (1)" says nothing more)."""
    lines = []
    for word, end, others in (
        ("from", "source", finding.other_sources),
        ("to", "destination", finding.other_destinations),
    ):
        if not others:
            continue
        described = _new_pod_groups(others)
        if described and len(described) == len(others):
            lines.append(f"also {word} " + "; ".join(described))
            continue
        counts = f"{counted(len(others), f'more {end} group')} {_per_namespace(others)}"
        lines.append(f"also {word} {counts}" + "".join(f"; {text}" for text in described))
    return lines


MAX_OPEN_RULES_SHOWN = 5
"""Further groups' own rules that admit every peer, each named up to this many (JSON lists
every one)."""


def open_rules_lines(finding: GroupedFlows, sources: SourceMap) -> list[str]:
    """The rules that let further groups' flows through in place of the witness's, on a
    side where each admits every endpoint at the other end, the first few at file:line."""
    lines = []
    for direction, others, every in (
        (Direction.EGRESS, "sources", "destination"),
        (Direction.INGRESS, "destinations", "source"),
    ):
        rules = [rule for rule in finding.other_open_rules if rule.direction is direction]
        if not rules:
            continue
        lines.append(
            f"{direction.value.lower()} of the other {others}: each allowed by its own rule "
            f"that admits every {every}:"
        )
        lines += [f"  {describe_rule(rule, sources)}" for rule in rules[:MAX_OPEN_RULES_SHOWN]]
        if len(rules) > MAX_OPEN_RULES_SHOWN:
            lines.append(f"  and {counted(len(rules) - MAX_OPEN_RULES_SHOWN, 'more rule')}")
    return lines


def _new_pod_groups(groups: tuple[EndpointGroup, ...]) -> list[str]:
    new = [group for group in groups if group.kind == "new-pod"]
    if len(new) > MAX_NEW_POD_GROUPS_SHOWN:
        return []
    return [describe_group(group) for group in new]


def _per_namespace(groups: tuple[EndpointGroup, ...]) -> str:
    """`in 2 namespaces: a (3), b (1)`, external addresses apart (they are in none):
    `in 1 namespace: a (1), and external addresses (1)`, or `of external addresses (1)`."""
    external = sum(1 for group in groups if group.kind == "external")
    counts = Counter(_namespace_of(group) for group in groups if group.kind != "external")
    shown = ", ".join(
        f"{namespace} ({count})" for namespace, count in counts.most_common(MAX_NAMESPACES_SHOWN)
    )
    rest = len(counts) - MAX_NAMESPACES_SHOWN
    more = f", and {counted(rest, 'more namespace')}" if rest > 0 else ""
    outside = f"external addresses ({external})" if external else ""
    if not counts:
        return f"of {outside}"
    inside = f"in {counted(len(counts), 'namespace')}: {shown}{more}"
    return f"{inside}, and {outside}" if outside else inside


def counted(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def describe_matrix_witness(witness: MatrixWitness | None) -> str | None:
    """`ns-3/pod3 -> ns-2/pod2 TCP/80`, or None without a witness."""
    if witness is None:
        return None
    text = f"{witness.source} -> {witness.destination} {witness.protocol.value}/{witness.port}"
    if witness.self_traffic:
        return text + " (self traffic)"
    return text + " (on the same node: node-local)" if witness.node_local else text


def profiles_phrase(profiles: dict[str, Status]) -> str:
    """`holds under upstream, calico; violated under cilium`: the profiles by status, in
    the order statuses first occur."""
    by_status: dict[Status, list[str]] = {}
    for name, status in profiles.items():
        by_status.setdefault(status, []).append(name)
    return "; ".join(
        f"{status.value} under {', '.join(names)}" for status, names in by_status.items()
    )
