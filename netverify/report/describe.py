"""Shared wording: endpoints, flows and the reasons on each side, for every text format."""

from netverify.model import (
    Endpoint,
    Flow,
    FlowDecision,
    ObjectRef,
    PodEndpoint,
    RuleRef,
    SideDecision,
    SourceMap,
)


def describe_endpoint(endpoint: Endpoint) -> str:
    """`ns/pod (k=v)`, `ns/<new pod> (k=v)` or a bare address."""
    if not isinstance(endpoint, PodEndpoint):
        return str(endpoint.ip)
    pod = endpoint.pod
    namespace = endpoint.namespace.name
    if not endpoint.namespace.defined and pod.name is None:
        namespace = f"<new namespace {namespace}>"
    name = pod.name if pod.name is not None else "<new pod>"
    labels = ",".join(f"{key}={value}" for key, value in sorted(pod.labels.items()))
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


def describe_node_local(decision: FlowDecision) -> str:
    """Why node-local traffic is allowed, naming the end that is the node."""
    flow = decision.flow
    node = flow.source if _is_host_network(flow.source) else flow.destination
    return (
        f"node-local: allowed ({describe_endpoint(node)} is a hostNetwork pod, so its traffic "
        "is its node's, and traffic between a node and the pods on it is always allowed, "
        "whatever the NetworkPolicies say)"
    )


def _is_host_network(endpoint: Endpoint) -> bool:
    return isinstance(endpoint, PodEndpoint) and endpoint.pod.host_network


def _located(text: str, span: object) -> str:
    return f"{text} ({span})" if span is not None else text


def describe_policy(ref: ObjectRef, sources: SourceMap) -> str:
    return _located(f"{ref.namespace}/{ref.name}", sources.of_object(ref))


def describe_rule(ref: RuleRef, sources: SourceMap) -> str:
    name = f"{ref.policy.namespace}/{ref.policy.name} {ref.direction.value.lower()}[{ref.index}]"
    return _located(name, sources.of_rule(ref))


def describe_side(side: SideDecision, decision: FlowDecision, sources: SourceMap) -> str:
    """Why one side allows or blocks, naming policies and rules with file:line."""
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
    if side.allowed:
        rules = "; ".join(describe_rule(rule, sources) for rule in side.allowed_by)
        return f"{direction}: allowed by {rules}"
    policies = "; ".join(describe_policy(policy, sources) for policy in side.isolated_by)
    return f"{direction}: BLOCKED: isolated by {policies}; no rule admits this flow"
