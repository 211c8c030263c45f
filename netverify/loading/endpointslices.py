"""`discovery.k8s.io/v1` EndpointSlice from a raw manifest, and the Services they back.

Only a Service without a selector takes its backends from EndpointSlices (a selector's slices
are written by the endpoint controller from that selector): each ready endpoint with a Pod
`targetRef` is that pod, one without is the loaded pod that has its address. Endpoints that
are no loaded pod (an external database, a pod the manifests lack) are not modelled: the
loader warns, and verdicts through the Service cover its pod backends only.
Validation follows `ValidateEndpointSlice`
(https://github.com/kubernetes/kubernetes/blob/master/pkg/apis/discovery/validation/validation.go)
for the fields read here.
"""

from collections.abc import Iterable

from netverify.loading.fields import ObjectFields
from netverify.loading.networkpolicy import read_protocol
from netverify.loading.validation import (
    choice_error,
    ip_address_error,
    parse_ip_address,
    port_number_error,
)
from netverify.loading.yamlconvert import Path
from netverify.model import (
    SERVICE_NAME_LABEL,
    ContainerPort,
    Diagnostic,
    EndpointSlice,
    Pod,
    Service,
    Severity,
    SliceEndpoint,
    SourceSpan,
)

ENDPOINT_SLICE_API_VERSION = "discovery.k8s.io/v1"
ADDRESS_TYPES = ("IPv4", "IPv6", "FQDN")
SLICE_FIELDS = ("apiVersion", "kind", "metadata", "addressType", "endpoints", "ports")
ENDPOINT_FIELDS = (
    "addresses",
    "conditions",
    "hostname",
    "targetRef",
    "nodeName",
    "zone",
    "hints",
    "deprecatedTopology",
)
PORT_FIELDS = ("name", "protocol", "port", "appProtocol")


def read_endpoint_slice(
    fields: ObjectFields, data: dict[str, object], namespace: str, name: str, labels: dict[str, str]
) -> EndpointSlice | None:
    """The EndpointSlice, or None when any error was reported for it."""
    fields.check_fields(data, (), SLICE_FIELDS)
    address_type = fields.required(data, (), "addressType")
    if address_type is not None:
        text = fields.string(address_type, ("addressType",))
        if text is not None and (problem := choice_error("addressType", text, ADDRESS_TYPES)):
            fields.error(("addressType",), problem)
        address_type = text
    endpoints = [
        endpoint
        for index, raw in enumerate(_items(fields, data, "endpoints"))
        if (endpoint := _read_endpoint(fields, raw, ("endpoints", index), address_type)) is not None
    ]
    ports = [
        port
        for index, raw in enumerate(_items(fields, data, "ports"))
        if (port := _read_port(fields, raw, ("ports", index))) is not None
    ]
    if fields.failed:
        return None
    return EndpointSlice(
        namespace=namespace,
        name=name,
        service_name=labels.get(SERVICE_NAME_LABEL),
        endpoints=tuple(endpoints),
        ports=tuple(ports),
    )


def _items(fields: ObjectFields, data: dict[str, object], key: str) -> list[object]:
    raw = data.get(key)
    return [] if raw is None else fields.sequence(raw, (key,)) or []


def _read_endpoint(
    fields: ObjectFields, raw: object, path: Path, address_type: object
) -> SliceEndpoint | None:
    """A ready endpoint; None for one that is not ready or after an error."""
    entry = _entry(fields, raw, path, ENDPOINT_FIELDS)
    if entry is None:
        return None
    addresses = []
    raw_addresses = fields.required(entry, path, "addresses")
    for index, raw_address in enumerate(
        [] if raw_addresses is None else fields.sequence(raw_addresses, (*path, "addresses")) or []
    ):
        text = fields.string(raw_address, (*path, "addresses", index))
        if text is None:
            continue
        if address_type in ("IPv4", "IPv6"):
            address = parse_ip_address(text)
            if address is None:
                fields.error((*path, "addresses", index), ip_address_error(text) or "")
                continue
            text = str(address)
        addresses.append(text)
    conditions = entry.get("conditions")
    if isinstance(conditions, dict) and conditions.get("ready") is False:
        return None
    return SliceEndpoint(addresses=tuple(addresses), pod=_target_pod(fields, entry, path))


def _target_pod(
    fields: ObjectFields, entry: dict[str, object], path: Path
) -> tuple[str, str] | None:
    """Namespace and name of the Pod a `targetRef` names; None for none or another kind."""
    raw = entry.get("targetRef")
    if raw is None:
        return None
    target = fields.mapping(raw, (*path, "targetRef"))
    if target is None or target.get("kind") != "Pod":
        return None
    namespace, name = target.get("namespace"), target.get("name")
    if isinstance(namespace, str) and isinstance(name, str):
        return namespace, name
    fields.error((*path, "targetRef"), "a Pod targetRef needs a namespace and a name")
    return None


def _entry(
    fields: ObjectFields, raw: object, path: Path, known: tuple[str, ...]
) -> dict[str, object] | None:
    """A list entry that must be a mapping, its fields checked against `known`."""
    entry = fields.mapping(raw, path)
    if entry is not None:
        fields.check_fields(entry, path, known)
    return entry


def _read_port(fields: ObjectFields, raw: object, path: Path) -> ContainerPort | None:
    entry = _entry(fields, raw, path, PORT_FIELDS)
    if entry is None:
        return None
    protocol = read_protocol(fields, entry.get("protocol"), (*path, "protocol"))
    raw_name = entry.get("name")
    name = None if raw_name in (None, "") else fields.string(raw_name, (*path, "name"))
    raw_port = entry.get("port")
    # NOTE: a slice port without a number leaves the port to its consumer: no port here.
    if raw_port is None or protocol is None:
        return None
    number = fields.integer(raw_port, (*path, "port"))
    if number is not None and (problem := port_number_error(number)) is not None:
        fields.error((*path, "port"), problem)
        return None
    return None if number is None else ContainerPort(name=name, port=number, protocol=protocol)


def with_endpoint_slices(
    services: Iterable[Service],
    slices: Iterable[tuple[EndpointSlice, SourceSpan]],
    pods: tuple[Pod, ...],
) -> tuple[list[Service], list[Diagnostic]]:
    """Each Service without a selector with the EndpointSlices labelled with its name, and a
    warning for each such slice that lists endpoints no loaded pod is (not modelled)."""
    by_service: dict[tuple[str, str | None], list[tuple[EndpointSlice, SourceSpan]]] = {}
    for found, span in slices:
        by_service.setdefault((found.namespace, found.service_name), []).append((found, span))
    attached: list[Service] = []
    warnings: list[Diagnostic] = []
    for service in services:
        own = by_service.get((service.namespace, service.name), [])
        if service.selector is not None or not own:
            attached.append(service)
            continue
        for found, span in own:
            single = service.model_copy(update={"endpoint_slices": (found,)})
            if unmatched := single.unmatched_endpoints(pods):
                warnings.append(_external_warning(service, found, span, unmatched))
        attached.append(
            service.model_copy(update={"endpoint_slices": tuple(found for found, _ in own)})
        )
    return attached, warnings


def _external_warning(
    service: Service, found: EndpointSlice, span: SourceSpan, unmatched: Iterable[SliceEndpoint]
) -> Diagnostic:
    listed = ", ".join(str(endpoint) for endpoint in unmatched)
    return Diagnostic(
        severity=Severity.WARNING,
        span=span,
        object=f"EndpointSlice {found.namespace}/{found.name}",
        message=(
            f"endpoints {listed} of Service {service.namespace}/{service.name} are no loaded "
            "pod: external backends are not modelled (verdicts through the Service cover its "
            "pod backends only)"
        ),
    )
