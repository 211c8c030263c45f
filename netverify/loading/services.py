"""`v1` Service from a raw manifest: validated, then normalised.

Validation follows `ValidateService` of the API server
(https://github.com/kubernetes/kubernetes/blob/master/pkg/apis/core/validation/validation.go)
for the fields that decide where traffic to the Service goes: type, selector, ports and
cluster IPs. Defaulting follows `SetDefaults_Service` (type ClusterIP, protocol TCP,
`targetPort` = `port`). A Service without a selector takes its backends from
EndpointSlices (`endpointslices.py`).
"""

from netverify.loading.fields import ObjectFields
from netverify.loading.networkpolicy import read_protocol
from netverify.loading.selectors import read_labels
from netverify.loading.validation import (
    choice_error,
    dns1123_label_error,
    ip_address_error,
    parse_ip_address,
    port_name_error,
    port_number_error,
)
from netverify.loading.yamlconvert import Path
from netverify.model import IPAddress, Service, ServicePort

SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")
SPEC_FIELDS = (
    "ports",
    "selector",
    "clusterIP",
    "clusterIPs",
    "type",
    "externalIPs",
    "sessionAffinity",
    "sessionAffinityConfig",
    "loadBalancerIP",
    "loadBalancerSourceRanges",
    "loadBalancerClass",
    "externalName",
    "externalTrafficPolicy",
    "internalTrafficPolicy",
    "healthCheckNodePort",
    "publishNotReadyAddresses",
    "ipFamilies",
    "ipFamilyPolicy",
    "allocateLoadBalancerNodePorts",
    "trafficDistribution",
)
PORT_FIELDS = ("name", "protocol", "appProtocol", "port", "targetPort", "nodePort")
HEADLESS = "None"
"""`clusterIP: None`: a headless Service, with no virtual address to translate."""


def read_service(
    fields: ObjectFields, data: dict[str, object], namespace: str, name: str
) -> Service | None:
    """The Service, or None when any error was reported for it."""
    # NOTE: Service names are DNS-1035 labels: a DNS-1123 label that starts with a letter.
    problem = dns1123_label_error(name, "Service name")
    if problem is None and not name[0].isalpha():
        problem = f'invalid Service name "{name}": must start with a lower case letter'
    if problem is not None:
        fields.error(("metadata", "name"), problem)
    raw_spec = data.get("spec")
    spec = {} if raw_spec is None else fields.mapping(raw_spec, ("spec",))
    if spec is None:
        return None
    fields.check_fields(spec, ("spec",), SPEC_FIELDS)
    service_type = "ClusterIP"
    if (raw_type := spec.get("type")) is not None:
        text = fields.string(raw_type, ("spec", "type"))
        if text is not None and (problem := choice_error("type", text, SERVICE_TYPES)):
            fields.error(("spec", "type"), problem)
        service_type = text or service_type
    selector = None
    if (raw_selector := spec.get("selector")) is not None:
        selector = read_labels(fields, raw_selector, ("spec", "selector"))
    cluster_ips, headless = _read_cluster_ips(fields, spec)
    ports = _read_ports(fields, spec.get("ports"))
    if not ports and not headless and service_type != "ExternalName" and not fields.failed:
        fields.error(("spec", "ports"), "must specify at least one port (a Service port)")
    if fields.failed:
        return None
    return Service(
        namespace=namespace,
        name=name,
        type=service_type,
        selector=selector,
        ports=ports,
        cluster_ips=cluster_ips,
    )


def _read_cluster_ips(
    fields: ObjectFields, spec: dict[str, object]
) -> tuple[tuple[IPAddress, ...], bool]:
    """The cluster IPs and whether the Service is headless (`clusterIP: None`)."""
    found: list[tuple[Path, str]] = []
    if (raw_ip := spec.get("clusterIP")) is not None:
        text = fields.string(raw_ip, ("spec", "clusterIP"))
        if text:
            found.append((("spec", "clusterIP"), text))
    if (raw_ips := spec.get("clusterIPs")) is not None:
        for index, raw in enumerate(fields.sequence(raw_ips, ("spec", "clusterIPs")) or ()):
            path: Path = ("spec", "clusterIPs", index)
            text = fields.string(raw, path)
            if not text:
                continue
            if index == 0 and found and found[0][1] != text:
                fields.error(path, f'must match `clusterIP` ("{found[0][1]}") when both are given')
            found.append((path, text))
    headless = any(text == HEADLESS for _, text in found)
    ips: list[IPAddress] = []
    for path, text in found:
        if text == HEADLESS:
            continue
        address = parse_ip_address(text)
        if address is None:
            fields.error(path, ip_address_error(text) or "")
        elif address not in ips:
            ips.append(address)
    return tuple(ips), headless


def _read_ports(fields: ObjectFields, raw: object) -> tuple[ServicePort, ...]:
    if raw is None:
        return ()
    path: Path = ("spec", "ports")
    entries = fields.sequence(raw, path) or []
    ports: list[ServicePort] = []
    names: dict[str, int] = {}
    pairs: dict[tuple[int, str], int] = {}
    for index, raw_entry in enumerate(entries):
        port_path: Path = (*path, index)
        entry = fields.mapping(raw_entry, port_path)
        if entry is None:
            continue
        fields.check_fields(entry, port_path, PORT_FIELDS)
        name = _read_port_name(fields, entry, port_path, required=len(entries) > 1)
        if name is not None:
            if name in names:
                fields.error((*port_path, "name"), f'duplicate port name "{name}"')
            names.setdefault(name, index)
        protocol = read_protocol(fields, entry.get("protocol"), (*port_path, "protocol"))
        number = None
        if (raw_number := fields.required(entry, port_path, "port")) is not None:
            number = fields.integer(raw_number, (*port_path, "port"))
            if number is not None and (problem := port_number_error(number)) is not None:
                fields.error((*port_path, "port"), problem)
                number = None
        target = _read_target_port(fields, entry.get("targetPort"), (*port_path, "targetPort"))
        if number is None or protocol is None:
            continue
        if (number, protocol) in pairs:
            first = pairs[number, protocol]
            message = f"duplicate port {number}/{protocol.value} (also spec.ports[{first}])"
            fields.error((*port_path, "port"), message)
        pairs.setdefault((number, protocol), index)
        if target is not None:
            ports.append(
                ServicePort(name=name, port=number, protocol=protocol, target_port=target or number)
            )
    return tuple(ports)


def _read_port_name(
    fields: ObjectFields, entry: dict[str, object], path: Path, *, required: bool
) -> str | None:
    raw = entry.get("name")
    if raw is None or raw == "":
        if required:
            fields.error((*path, "name"), "required when a Service has more than one port")
        return None
    name = fields.string(raw, (*path, "name"))
    if name is not None and (problem := dns1123_label_error(name, "port name")) is not None:
        fields.error((*path, "name"), problem)
    return name


def _read_target_port(fields: ObjectFields, raw: object, path: Path) -> int | str | None:
    """A number or a port name; 0 (for "absent", defaulted to `port`) when not given;
    None after an error."""
    if raw is None:
        return 0
    if isinstance(raw, str):
        if (problem := port_name_error(raw)) is not None:
            if raw.isdigit():
                problem += f"; to mean port number {raw}, write it without quotes"
            fields.error(path, problem)
            return None
        return raw
    number = fields.integer(raw, path)
    if number is not None and (problem := port_number_error(number)) is not None:
        fields.error(path, problem)
        return None
    return number
