"""From a spec's endpoint and port patterns to the policy pieces a fix writes: the peers
and ports that match exactly the pattern, and the label requirements that its endpoints fail
(to exclude them from a peer)."""

from collections.abc import Iterator

from netverify.model import (
    Invariant,
    IPBlock,
    LabelRequirement,
    LabelSelector,
    Operator,
    PolicyPeer,
    PolicyPort,
    PortRange,
)
from netverify.model.flow import Endpoint, Flow, PodEndpoint
from netverify.model.invariants import EndpointPattern, PortPattern
from netverify.model.objects import MAX_PORT, NAMESPACE_NAME_LABEL, PROTOCOLS

_NEGATED = {
    Operator.IN: Operator.NOT_IN,
    Operator.NOT_IN: Operator.IN,
    Operator.EXISTS: Operator.DOES_NOT_EXIST,
    Operator.DOES_NOT_EXIST: Operator.EXISTS,
}


def exclusions(
    pattern: EndpointPattern, endpoint: Endpoint
) -> Iterator[tuple[bool, LabelRequirement]]:
    """Requirements that the endpoints of `pattern` fail, each with whether it is on the
    namespace (True) or the pod (False): the pattern's namespace or pod selector negated
    when it is a single requirement, the named namespace, and each label of a named pod."""
    if pattern.namespace_name is not None:
        yield (
            True,
            LabelRequirement(
                key=NAMESPACE_NAME_LABEL, operator=Operator.NOT_IN, values=(pattern.namespace_name,)
            ),
        )
    if pattern.namespace_selector is not None and (negated := _negated(pattern.namespace_selector)):
        yield True, negated
    if pattern.pod_selector is not None and (negated := _negated(pattern.pod_selector)):
        yield False, negated
    if pattern.pod_name is not None and isinstance(endpoint, PodEndpoint):
        for key, value in sorted(endpoint.pod.labels.items()):
            yield False, LabelRequirement(key=key, operator=Operator.NOT_IN, values=(value,))


def _negated(selector: LabelSelector) -> LabelRequirement | None:
    """The one requirement every pod outside a single-requirement selector meets."""
    requirements = [
        *(
            LabelRequirement(key=k, operator=Operator.IN, values=(v,))
            for k, v in selector.match_labels.items()
        ),
        *selector.match_expressions,
    ]
    if len(requirements) != 1:
        return None
    only = requirements[0]
    return only.model_copy(update={"operator": _NEGATED[only.operator]})


def excluding(peer: PolicyPeer, on_namespace: bool, requirement: LabelRequirement) -> PolicyPeer:
    """The peer with `requirement` added to its namespace or pod selector; `key In (value)`
    on a key the selector does not match yet is written `matchLabels: {key: value}`, as a
    person writes it (the same selector)."""
    field = "namespace_selector" if on_namespace else "pod_selector"
    selector: LabelSelector = getattr(peer, field) or LabelSelector()
    if (
        requirement.operator is Operator.IN
        and len(requirement.values) == 1
        and requirement.key not in selector.match_labels
    ):
        (value,) = requirement.values
        update: dict[str, object] = {
            "match_labels": {**selector.match_labels, requirement.key: value}
        }
    else:
        update = {"match_expressions": (*selector.match_expressions, requirement)}
    return peer.model_copy(update={field: selector.model_copy(update=update)})


def pods_selector(pattern: EndpointPattern, endpoint: Endpoint | None) -> LabelSelector | None:
    """The pod selector of a pattern's pods: its own, or a named pod's labels."""
    if pattern.pod_selector is not None:
        return pattern.pod_selector
    if pattern.pod_name is not None and isinstance(endpoint, PodEndpoint):
        return LabelSelector(match_labels=dict(endpoint.pod.labels))
    return None


def matching_peers(pattern: EndpointPattern, endpoint: Endpoint | None) -> tuple[PolicyPeer, ...]:
    """The `from`/`to` entries matching exactly the endpoints of `pattern` (empty: every
    endpoint)."""
    if pattern.ip is not None:
        return (PolicyPeer(ip_block=IPBlock(cidr=pattern.ip)),)
    if not pattern.pods_only:
        return ()
    namespaces = pattern.namespace_selector or LabelSelector()
    if pattern.namespace_name is not None:
        namespaces = LabelSelector(match_labels={NAMESPACE_NAME_LABEL: pattern.namespace_name})
    return (
        PolicyPeer(namespace_selector=namespaces, pod_selector=pods_selector(pattern, endpoint)),
    )


def matching_ports(patterns: tuple[PortPattern, ...]) -> tuple[PolicyPort, ...]:
    """Policy ports naming exactly the invariant's ports (a named port of any protocol on
    every protocol)."""
    return tuple(
        PolicyPort(protocol=protocol, port_range=pattern.port_range, named_port=pattern.named_port)
        for pattern in patterns
        for protocol in ((pattern.protocol,) if pattern.protocol is not None else PROTOCOLS)
    )


def describe(requirement: LabelRequirement) -> str:
    values = ",".join(requirement.values)
    return {
        Operator.NOT_IN: f"{requirement.key} in {{{values}}}",
        Operator.IN: f"{requirement.key} not in {{{values}}}",
        Operator.DOES_NOT_EXIST: f"labels {requirement.key}",
        Operator.EXISTS: f"no label {requirement.key}",
    }[requirement.operator]


def admitting(requirement: LabelRequirement, noun: str = "pod") -> str:
    """What a selector narrowed by `requirement` admits, in words: "only app in {web}" for
    `In` (not the double negative "every pod but app not in {web}"), else "every pod but
    ..." with what it leaves out."""
    if requirement.operator is Operator.IN:
        return f"only {requirement.key} in {{{','.join(requirement.values)}}}"
    return f"every {noun} but {describe(requirement)}"


def may_select_alike(first: LabelSelector, second: LabelSelector) -> bool:
    """Whether some label set matches both selectors. False only when they are provably
    apart: a key one pins (matchLabels, In) to values the other rules out (another pinned
    value, NotIn, DoesNotExist). Label values are unbounded, so NotIn or Exists alone never
    rule a key out."""
    requirements = [
        *(
            LabelRequirement(key=key, operator=Operator.IN, values=(value,))
            for selector in (first, second)
            for key, value in selector.match_labels.items()
        ),
        *first.match_expressions,
        *second.match_expressions,
    ]
    for key in {requirement.key for requirement in requirements}:
        on_key = [requirement for requirement in requirements if requirement.key == key]
        operators = {requirement.operator for requirement in on_key}
        if Operator.DOES_NOT_EXIST in operators and operators & {Operator.IN, Operator.EXISTS}:
            return False
        pinned = [set(r.values) for r in on_key if r.operator is Operator.IN]
        if pinned:
            allowed = set.intersection(*pinned)
            for requirement in on_key:
                if requirement.operator is Operator.NOT_IN:
                    allowed -= set(requirement.values)
            if not allowed:
                return False
    return True


def namespaces_of(pattern: EndpointPattern) -> LabelSelector:
    """The namespaces of a pattern's pods, as a selector."""
    if pattern.namespace_name is not None:
        return LabelSelector(match_labels={NAMESPACE_NAME_LABEL: pattern.namespace_name})
    return pattern.namespace_selector or LabelSelector()


def unique_name(wanted: str, taken: set[str]) -> str:
    """`wanted` cut to a valid object name, not one of `taken`."""
    base = wanted[:60].rstrip("-")
    name, number = base, 2
    while name in taken:
        name, number = f"{base}-{number}", number + 1
    return name


def may_admit(port: PolicyPort, flow: Flow) -> bool:
    """Whether the rule's port entry may admit the flow's port (a named one may)."""
    if port.protocol is not flow.protocol:
        return False
    if port.port_range is not None:
        return port.port_range.start <= flow.port <= port.port_range.end
    return True


def only_forbidden(port: PolicyPort, invariant: Invariant) -> bool:
    """Whether each port of the entry (a number or a range) is one the forbid is about."""
    if port.named_port is not None:
        return False
    if not invariant.ports:
        return True
    ports = port.port_range or PortRange(start=1, end=MAX_PORT)
    return any(
        pattern.protocol in (None, port.protocol)
        and pattern.named_port is None
        and (
            pattern.port_range is None
            or pattern.port_range.start <= ports.start <= ports.end <= pattern.port_range.end
        )
        for pattern in invariant.ports
    )


def port_text(port: PolicyPort) -> str:
    """A numbered port entry for people: `TCP/443`, `TCP/8000-8080`."""
    if port.port_range is None:
        return f"{port.protocol.value}/every port"
    start, end = port.port_range.start, port.port_range.end
    return f"{port.protocol.value}/{start}" + ("" if start == end else f"-{end}")
