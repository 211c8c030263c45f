"""`v1` Node from a raw manifest: its labels and the addresses `nodes` peers match."""

from netverify.loading.fields import ObjectFields
from netverify.loading.validation import ip_address_error, parse_ip_address
from netverify.loading.yamlconvert import Path
from netverify.model import IPAddress, Node

NODE_ADDRESS_TYPES = ("InternalIP", "ExternalIP")
"""The `status.addresses` types that carry a node IP (`nodes` peers match these)."""


def read_node(
    fields: ObjectFields, data: dict[str, object], name: str, labels: dict[str, str]
) -> Node | None:
    """A Node's labels and its InternalIP/ExternalIP `status.addresses`."""
    addresses: list[IPAddress] = []
    raw_status = data.get("status")
    status = None if raw_status is None else fields.mapping(raw_status, ("status",))
    raw_addresses = None if status is None else status.get("addresses")
    path: Path = ("status", "addresses")
    items = [] if raw_addresses is None else fields.sequence(raw_addresses, path) or []
    for index, raw_address in enumerate(items):
        entry = fields.mapping(raw_address, (*path, index))
        if entry is None or entry.get("type") not in NODE_ADDRESS_TYPES:
            continue
        raw_text = fields.required(entry, (*path, index), "address")
        text = None if raw_text is None else fields.string(raw_text, (*path, index, "address"))
        if text is None:
            continue
        address = parse_ip_address(text)
        if address is None:
            fields.error((*path, index, "address"), ip_address_error(text) or "")
        elif address not in addresses:
            addresses.append(address)
    if fields.failed:
        return None
    return Node(name=name, labels=labels, addresses=tuple(addresses))
