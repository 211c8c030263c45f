"""The ports of admin policy rules: v1alpha2 `protocols` and v1alpha1 `ports`, validated as
the CRDs validate them and normalised to `PolicyPort`s (see `netverify.model.admin_policy`)."""

from netverify.loading.fields import ObjectFields
from netverify.loading.networkpolicy import read_protocol
from netverify.loading.validation import port_number_error
from netverify.loading.yamlconvert import Path
from netverify.model import PROTOCOLS, PolicyPort, PortRange, Protocol


def read_admin_ports(
    fields: ObjectFields, raw: object, path: Path, most: int, v1alpha2: bool
) -> tuple[PolicyPort, ...]:
    """`protocols` (v1alpha2) or `ports` (v1alpha1) of a rule, at most `most` entries;
    absent (`raw` None) means every protocol and port."""
    if raw is None:
        return ()
    items = fields.sequence(raw, path)
    if items is None:
        return ()
    fields.check_count(items, path, most)
    read = _read_protocol_entry if v1alpha2 else _read_port_entry
    return tuple(
        port for index, item in enumerate(items) for port in read(fields, item, (*path, index))
    )


def _named(name: str) -> list[PolicyPort]:
    """A named port names no protocol: it matches the pod's port of that name, whichever
    protocol the port has."""
    return [PolicyPort(protocol=protocol, named_port=name) for protocol in PROTOCOLS]


def _read_protocol_entry(fields: ObjectFields, raw: object, path: Path) -> list[PolicyPort]:
    """One v1alpha2 `protocols` entry: `tcp`/`udp`/`sctp` with a `destinationPort`, or
    `destinationNamedPort`."""
    entry = fields.mapping(raw, path)
    if entry is None:
        return []
    keys = ("tcp", "udp", "sctp", "destinationNamedPort")
    key = fields.one_of(entry, path, keys)
    if key is None:
        return []
    if key == "destinationNamedPort":
        name = fields.string(entry[key], (*path, key))
        return [] if name is None else _named(name)
    protocol = Protocol(key.upper())
    attributes = fields.mapping(entry[key], (*path, key))
    if attributes is None:
        return []
    fields.check_fields(attributes, (*path, key), ("destinationPort",))
    port_path: Path = (*path, key, "destinationPort")
    raw_port = fields.required(attributes, (*path, key), "destinationPort")
    port = None if raw_port is None else fields.mapping(raw_port, port_path)
    if port is None:
        return []
    match fields.one_of(port, port_path, ("number", "range")):
        case "number":
            number = _read_port_number(fields, port, port_path, "number")
            if number is None:
                return []
            return [PolicyPort(protocol=protocol, port_range=PortRange(start=number, end=number))]
        case "range":
            port_range = _read_range(fields, port["range"], (*port_path, "range"), ())
            return (
                [] if port_range is None else [PolicyPort(protocol=protocol, port_range=port_range)]
            )
    return []


def _read_port_entry(fields: ObjectFields, raw: object, path: Path) -> list[PolicyPort]:
    """One v1alpha1 `ports` entry: `portNumber`, `namedPort` or `portRange` (protocol
    defaults to TCP)."""
    entry = fields.mapping(raw, path)
    if entry is None:
        return []
    key = fields.one_of(entry, path, ("portNumber", "namedPort", "portRange"))
    if key is None:
        return []
    if key == "namedPort":
        name = fields.string(entry[key], (*path, key))
        return [] if name is None else _named(name)
    attributes = fields.mapping(entry[key], (*path, key))
    if attributes is None:
        return []
    protocol = read_protocol(fields, attributes.get("protocol"), (*path, key, "protocol"))
    if key == "portNumber":
        fields.check_fields(attributes, (*path, key), ("protocol", "port"))
        number = _read_port_number(fields, attributes, (*path, key), "port")
        port_range = None if number is None else PortRange(start=number, end=number)
    else:
        port_range = _read_range(fields, attributes, (*path, key), ("protocol",))
    if protocol is None or port_range is None:
        return []
    return [PolicyPort(protocol=protocol, port_range=port_range)]


def _read_port_number(
    fields: ObjectFields, mapping: dict[str, object], path: Path, key: str
) -> int | None:
    raw = fields.required(mapping, path, key)
    number = None if raw is None else fields.integer(raw, (*path, key))
    if number is not None and (problem := port_number_error(number)) is not None:
        fields.error((*path, key), problem)
        return None
    return number


def _read_range(
    fields: ObjectFields, raw: object, path: Path, also_known: tuple[str, ...]
) -> PortRange | None:
    """A port range: `start` < `end`, both ports."""
    port_range = fields.mapping(raw, path)
    if port_range is None:
        return None
    fields.check_fields(port_range, path, (*also_known, "start", "end"))
    start = _read_port_number(fields, port_range, path, "start")
    end = _read_port_number(fields, port_range, path, "end")
    if start is None or end is None:
        return None
    if start >= end:
        fields.error((*path, "end"), f"must be greater than `start` ({start}) (got {end})")
        return None
    return PortRange(start=start, end=end)
