"""`networking.k8s.io/v1` NetworkPolicy from a raw manifest: validated, then normalised.

Validation follows `ValidateNetworkPolicySpec` of the API server
(https://github.com/kubernetes/kubernetes/blob/master/pkg/apis/networking/validation/validation.go)
and defaulting `SetDefaults_NetworkPolicy`; the model's docstrings say what the normal form is.
"""

from netverify.loading.fields import ObjectFields
from netverify.loading.selectors import read_selector
from netverify.loading.validation import (
    cidr_error,
    except_error,
    parse_cidr,
    policy_type_error,
    port_name_error,
    port_number_error,
    protocol_error,
)
from netverify.loading.yamlconvert import Path
from netverify.model import (
    Direction,
    IPBlock,
    IPNetwork,
    NetworkPolicy,
    PolicyPeer,
    PolicyPort,
    PolicyRule,
    PortRange,
    Protocol,
)

OBJECT_FIELDS = ("apiVersion", "kind", "metadata", "spec", "status")
SPEC_FIELDS = ("podSelector", "ingress", "egress", "policyTypes")
PEER_FIELDS = ("podSelector", "namespaceSelector", "ipBlock")
PORT_FIELDS = ("protocol", "port", "endPort")
IP_BLOCK_FIELDS = ("cidr", "except")
PEERS_KEY = {Direction.INGRESS: "from", Direction.EGRESS: "to"}
RULES_KEY = {Direction.INGRESS: "ingress", Direction.EGRESS: "egress"}


def default_policy_types(spec: dict[str, object]) -> set[Direction]:
    """The `policyTypes` of a spec that leaves them out (or empty), as the API server
    defaults them: Ingress, plus Egress only when `egress` has at least one rule
    (`egress: []` does not isolate)."""
    raw_egress = spec.get("egress")
    if isinstance(raw_egress, list) and raw_egress:
        return {Direction.INGRESS, Direction.EGRESS}
    return {Direction.INGRESS}


def read_network_policy(
    fields: ObjectFields, data: dict[str, object], namespace: str, name: str
) -> NetworkPolicy | None:
    """The policy, or None when any error was reported for it."""
    fields.check_fields(data, (), OBJECT_FIELDS)
    raw_spec = data.get("spec")
    spec = {} if raw_spec is None else fields.mapping(raw_spec, ("spec",))
    if spec is None:
        return None
    fields.check_fields(spec, ("spec",), SPEC_FIELDS)
    # NOTE: an absent or null `podSelector` is the empty selector: every pod of the namespace.
    # The API server decodes it into a zero LabelSelector and accepts it, and the API says so
    # since kubernetes/kubernetes#131354 ("podSelector ... can be omitted, defaulting to
    # matching all pods"); upstream's admin-policy conformance manifests write `podSelector:`.
    raw_selector = spec.get("podSelector")
    pod_selector = read_selector(
        fields, {} if raw_selector is None else raw_selector, ("spec", "podSelector")
    )
    rules = {direction: _read_rules(fields, spec, direction) for direction in Direction}
    policy_types = _read_policy_types(fields, spec.get("policyTypes"))
    if not policy_types:
        policy_types = default_policy_types(spec)
    if fields.failed or pod_selector is None:
        return None
    return NetworkPolicy(
        namespace=namespace,
        name=name,
        pod_selector=pod_selector,
        policy_types=frozenset(policy_types),
        ingress=rules[Direction.INGRESS],
        egress=rules[Direction.EGRESS],
        ignored_checks=ignored_checks(data),
    )


IGNORE_ANNOTATION = "netverify.io/ignore"


def ignored_checks(data: dict[str, object]) -> frozenset[str]:
    """The lint check ids in the `netverify.io/ignore` annotation (comma-separated)."""
    metadata = data.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    raw = annotations.get(IGNORE_ANNOTATION) if isinstance(annotations, dict) else None
    if not isinstance(raw, str):
        return frozenset()
    return frozenset(part.strip() for part in raw.split(",") if part.strip())


def _read_policy_types(fields: ObjectFields, raw: object) -> set[Direction]:
    path: Path = ("spec", "policyTypes")
    if raw is None:
        return set()
    types: set[Direction] = set()
    for index, raw_type in enumerate(fields.sequence(raw, path) or ()):
        text = fields.string(raw_type, (*path, index))
        if text is None:
            continue
        if (problem := policy_type_error(text)) is not None:
            fields.error((*path, index), problem)
        elif Direction(text) in types:
            fields.error((*path, index), f'duplicate policy type "{text}"')
        else:
            types.add(Direction(text))
    return types


def _read_rules(
    fields: ObjectFields, spec: dict[str, object], direction: Direction
) -> tuple[PolicyRule, ...]:
    path: Path = ("spec", RULES_KEY[direction])
    raw = spec.get(RULES_KEY[direction])
    if raw is None:
        return ()
    rules: list[PolicyRule] = []
    for index, raw_rule in enumerate(fields.sequence(raw, path) or ()):
        rule = _read_rule(fields, raw_rule, (*path, index), PEERS_KEY[direction])
        if rule is not None:
            rules.append(rule)
    return tuple(rules)


def _read_rule(fields: ObjectFields, raw: object, path: Path, peers_key: str) -> PolicyRule | None:
    if raw is None:
        # The API server decodes a null list entry as an empty rule.
        fields.warn(path, "an empty (null) rule allows every peer on every port")
        raw = {}
    rule = fields.mapping(raw, path)
    if rule is None:
        return None
    fields.check_fields(rule, path, (peers_key, "ports"))
    peers: list[PolicyPeer] = []
    if (raw_peers := rule.get(peers_key)) is not None:
        peers_path: Path = (*path, peers_key)
        for index, raw_peer in enumerate(fields.sequence(raw_peers, peers_path) or ()):
            peer = _read_peer(fields, raw_peer, (*peers_path, index))
            if peer is not None:
                peers.append(peer)
    ports: list[PolicyPort] = []
    if (raw_ports := rule.get("ports")) is not None:
        ports_path: Path = (*path, "ports")
        for index, raw_port in enumerate(fields.sequence(raw_ports, ports_path) or ()):
            port = _read_port(fields, raw_port, (*ports_path, index))
            if port is not None:
                ports.append(port)
    return PolicyRule(peers=tuple(peers), ports=tuple(ports))


def _read_peer(fields: ObjectFields, raw: object, path: Path) -> PolicyPeer | None:
    peer = fields.mapping({} if raw is None else raw, path)
    if peer is None:
        return None
    fields.check_fields(peer, path, PEER_FIELDS)
    raw_pods, raw_namespaces, raw_block = (peer.get(key) for key in PEER_FIELDS)
    pods = namespaces = block = None
    if raw_pods is not None:
        pods = read_selector(fields, raw_pods, (*path, "podSelector"))
    if raw_namespaces is not None:
        namespaces = read_selector(fields, raw_namespaces, (*path, "namespaceSelector"))
    if raw_block is not None:
        block = _read_ip_block(fields, raw_block, (*path, "ipBlock"))
    given = sum(raw is not None for raw in (raw_pods, raw_namespaces, raw_block))
    if given == 0:
        fields.error(path, "must specify a peer: podSelector, namespaceSelector or ipBlock")
        return None
    if given > 1 and raw_block is not None:
        fields.error(
            path,
            "may not specify more than 1 peer type: "
            "ipBlock cannot be combined with podSelector or namespaceSelector",
        )
        return None
    return PolicyPeer(pod_selector=pods, namespace_selector=namespaces, ip_block=block)


def _read_ip_block(fields: ObjectFields, raw: object, path: Path) -> IPBlock | None:
    block = fields.mapping(raw, path)
    if block is None:
        return None
    fields.check_fields(block, path, IP_BLOCK_FIELDS)
    cidr: IPNetwork | None = None
    raw_cidr = fields.required(block, path, "cidr")
    text = None if raw_cidr is None else fields.string(raw_cidr, (*path, "cidr"))
    if text is not None:
        cidr = parse_cidr(text)
        if cidr is None:
            fields.error((*path, "cidr"), cidr_error(text) or "")
    excepts: list[IPNetwork] = []
    if (raw_excepts := block.get("except")) is not None:
        excepts_path: Path = (*path, "except")
        for index, raw_except in enumerate(fields.sequence(raw_excepts, excepts_path) or ()):
            except_text = fields.string(raw_except, (*excepts_path, index))
            if except_text is None:
                continue
            problem = cidr_error(except_text) if cidr is None else except_error(cidr, except_text)
            if problem is not None:
                fields.error((*excepts_path, index), problem)
                continue
            excepted = parse_cidr(except_text)
            if excepted is not None:
                excepts.append(excepted)
    if cidr is None:
        return None
    return IPBlock(cidr=cidr, excepts=tuple(excepts))


def read_protocol(fields: ObjectFields, raw: object, path: Path) -> Protocol | None:
    """A `protocol` field; absent or null is TCP (the API server's default)."""
    if raw is None:
        return Protocol.TCP
    text = fields.string(raw, path)
    if text is None:
        return None
    protocol = _PROTOCOL_NAMED.get(text)
    if protocol is None:
        fields.error(path, protocol_error(text) or "")
    return protocol


_PROTOCOL_NAMED = {protocol.value: protocol for protocol in Protocol}
"""Each protocol by its name: a dict lookup, where the enum's own lookup by value is several
times slower, on tens of thousands of ports per large load."""


def _read_port(fields: ObjectFields, raw: object, path: Path) -> PolicyPort | None:
    # The API server decodes a null entry as a port with every field absent: all TCP ports.
    port = fields.mapping({} if raw is None else raw, path)
    if port is None:
        return None
    fields.check_fields(port, path, PORT_FIELDS)
    protocol = read_protocol(fields, port.get("protocol"), (*path, "protocol"))
    raw_port, raw_end = port.get("port"), port.get("endPort")
    end_path: Path = (*path, "endPort")
    end = None if raw_end is None else fields.integer(raw_end, end_path)
    if raw_port is None:
        if raw_end is not None:
            fields.error(end_path, "may not be specified when `port` is not specified")
        return None if protocol is None else PolicyPort(protocol=protocol)
    port_path: Path = (*path, "port")
    if isinstance(raw_port, str):
        if raw_end is not None:
            fields.error(end_path, "may not be specified when `port` is non-numeric")
        if (problem := port_name_error(raw_port)) is not None:
            if raw_port.isdigit():
                problem += f"; to mean port number {raw_port}, write it without quotes"
            fields.error(port_path, problem)
            return None
        return None if protocol is None else PolicyPort(protocol=protocol, named_port=raw_port)
    if isinstance(raw_port, bool) or not isinstance(raw_port, int):
        fields.expected(port_path, "a port number or a port name", raw_port)
        return None
    if (problem := port_number_error(raw_port)) is not None:
        fields.error(port_path, problem)
    if end is not None:
        if (problem := port_number_error(end)) is not None:
            fields.error(end_path, problem)
        elif end < raw_port:
            fields.error(end_path, f"must be greater than or equal to `port` ({raw_port})")
    if protocol is None or fields.failed:
        return None
    last = raw_port if end is None else end
    return PolicyPort(protocol=protocol, port_range=PortRange(start=raw_port, end=last))
