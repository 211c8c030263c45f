"""The API server's validation rules for the fields netverify reads, as pure functions.

Each function returns a complete, user-facing error message naming the offending value, or
None when the value is valid. The rules follow `k8s.io/apimachinery/pkg/util/validation`
(https://github.com/kubernetes/apimachinery/blob/master/pkg/util/validation/validation.go) and
the NetworkPolicy validation of `k8s.io/kubernetes/pkg/apis/networking/validation`, so that
netverify accepts exactly the manifests a cluster would accept.

The checks of names, port names, label keys and label values remember their answers: a
cluster repeats the same few thousand values across tens of thousands of objects.
"""

import difflib
import ipaddress
import re
from collections.abc import Iterable
from functools import lru_cache

from netverify.model import MAX_PORT, PROTOCOLS, IPAddress, IPNetwork

_QUALIFIED_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
_QUALIFIED_NAME_MAX = 63
_LABEL_VALUE_MAX = 63
_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS1123_LABEL_MAX = 63
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_DNS1123_SUBDOMAIN_MAX = 253
_PORT_NAME_MAX = 15
_PORT_NAME_CHARS = re.compile(r"[-a-z0-9]+")
_PORT_NAME_LETTER = re.compile(r"[a-z]")
_CIDR_PREFIX = re.compile(r"[0-9]+")
_REMEMBERED = 1 << 16
"""Distinct values each remembering check keeps (the most recently used)."""

_NAME_CHARS = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
    "an alphanumeric character"
)
_DNS_CHARS = (
    "must consist of lower case alphanumeric characters, '-' or '.', and must start and end "
    "with an alphanumeric character"
)

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
POLICY_TYPES = ("Ingress", "Egress")


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """A hint for a value that differs from an allowed one only in case ('' when none does)."""
    for choice in choices:
        if value.lower() == choice.lower():
            return f'; did you mean "{choice}"?'
    return ""


def closest_match(name: str, known: Iterable[str]) -> str:
    """A hint naming the most similar of `known` names ('' when none is close)."""
    matches = difflib.get_close_matches(name, list(known), n=1)
    return f'; did you mean "{matches[0]}"?' if matches else ""


def choice_error(what: str, value: str, choices: Iterable[str]) -> str | None:
    """`value` must be one of `choices` exactly (the API is case-sensitive)."""
    allowed = tuple(choices)
    if value in allowed:
        return None
    listed = ", ".join(f'"{c}"' for c in allowed)
    return f'unsupported {what} "{value}": must be one of {listed}{did_you_mean(value, allowed)}'


def protocol_error(protocol: str) -> str | None:
    """A NetworkPolicy or container port protocol: exactly TCP, UDP or SCTP."""
    return choice_error("protocol", protocol, PROTOCOLS)


def operator_error(operator: str) -> str | None:
    """A `matchExpressions` operator: exactly In, NotIn, Exists or DoesNotExist."""
    return choice_error("operator", operator, OPERATORS)


def policy_type_error(policy_type: str) -> str | None:
    """A `policyTypes` entry: exactly Ingress or Egress."""
    return choice_error("policy type", policy_type, POLICY_TYPES)


@lru_cache(maxsize=_REMEMBERED)
def label_key_error(key: str) -> str | None:
    """A label key (a "qualified name"): `[prefix/]name`, prefix a DNS-1123 subdomain."""
    head = f'invalid label key "{key}": '
    parts = key.split("/")
    if len(parts) > 2:
        return (
            head
            + "must be a name with an optional DNS subdomain prefix and '/' "
            + ("(e.g. 'example.com/MyName')")
        )
    if len(parts) == 2:
        prefix, name = parts
        if not prefix:
            return head + "prefix part must be non-empty"
        if len(prefix) > _DNS1123_SUBDOMAIN_MAX:
            return head + f"prefix part must be no more than {_DNS1123_SUBDOMAIN_MAX} characters"
        if not _DNS1123_SUBDOMAIN.fullmatch(prefix):
            return head + f"prefix part {_DNS_CHARS} (e.g. 'example.com')"
    else:
        name = key
    if not name:
        return head + "name part must be non-empty"
    if len(name) > _QUALIFIED_NAME_MAX:
        return head + f"name part must be no more than {_QUALIFIED_NAME_MAX} characters"
    if not _QUALIFIED_NAME.fullmatch(name):
        return head + f"name part {_NAME_CHARS} (e.g. 'MyName', 'my.name' or '123-abc')"
    return None


@lru_cache(maxsize=_REMEMBERED)
def label_value_error(value: str) -> str | None:
    """A label value: empty, or up to 63 characters of the qualified-name alphabet."""
    head = f'invalid label value "{value}": '
    if len(value) > _LABEL_VALUE_MAX:
        return head + f"must be no more than {_LABEL_VALUE_MAX} characters"
    if value and not _QUALIFIED_NAME.fullmatch(value):
        return head + (
            "must be empty or consist of alphanumeric characters, '-', '_' or '.', and must "
            "start and end with an alphanumeric character (e.g. 'MyValue' or 'my_value')"
        )
    return None


@lru_cache(maxsize=_REMEMBERED)
def dns1123_label_error(name: str, what: str = "name") -> str | None:
    """A name that must be a DNS-1123 label, as namespace names must."""
    head = f'invalid {what} "{name}": '
    if not name:
        return head + "must be non-empty"
    if len(name) > _DNS1123_LABEL_MAX:
        return head + f"must be no more than {_DNS1123_LABEL_MAX} characters"
    if not _DNS1123_LABEL.fullmatch(name):
        return head + (
            "a DNS-1123 label must consist of lower case alphanumeric characters or '-', and "
            "must start and end with an alphanumeric character (e.g. 'my-name' or '123-abc')"
        )
    return None


def port_number_error(port: int) -> str | None:
    """A port number: 1-65535 (0 is not a port a policy or container can name)."""
    if 1 <= port <= MAX_PORT:
        return None
    return f"invalid port {port}: must be between 1 and {MAX_PORT}, inclusive"


@lru_cache(maxsize=_REMEMBERED)
def port_name_error(name: str) -> str | None:
    """A port name (IANA_SVC_NAME): 1-15 of a-z, 0-9 and '-', a letter, no '--', no edge '-'."""
    head = f'invalid port name "{name}": '
    if not name:
        return head + "must be non-empty"
    if len(name) > _PORT_NAME_MAX:
        return head + f"must be no more than {_PORT_NAME_MAX} characters"
    if not _PORT_NAME_CHARS.fullmatch(name):
        return head + "must contain only lower case alphanumeric characters (a-z, 0-9) and '-'"
    if not _PORT_NAME_LETTER.search(name):
        return head + "must contain at least one letter (a-z)"
    if "--" in name:
        return head + "must not contain consecutive hyphens"
    if name.startswith("-") or name.endswith("-"):
        return head + "must not begin or end with a hyphen"
    return None


def parse_cidr(text: str) -> IPNetwork | None:
    """A CIDR as Go's `net.ParseCIDR` reads it (host bits may be set), or None if invalid.

    Python alone would also accept a bare address or a netmask after the '/', which the API
    server refuses, so the prefix length must be written as a number.
    """
    address, slash, prefix = text.partition("/")
    if not slash or not _CIDR_PREFIX.fullmatch(prefix) or "%" in address:
        return None
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def cidr_error(text: str) -> str | None:
    """An `ipBlock` CIDR: IPv4 or IPv6 address, '/', prefix length."""
    if parse_cidr(text) is not None:
        return None
    return f'invalid CIDR "{text}": must be a valid CIDR value, e.g. 10.9.8.0/24 or 2001:db8::/64'


def except_error(cidr: IPNetwork, text: str) -> str | None:
    """An `ipBlock.except` entry: a valid CIDR strictly inside `cidr`, of the same family."""
    excepted = parse_cidr(text)
    if excepted is None:
        return cidr_error(text)
    problem = f'invalid except "{text}": must be a strict subset of `cidr` ({cidr})'
    if excepted.version != cidr.version:
        return f"{problem}; it is IPv{excepted.version}, `cidr` is IPv{cidr.version}"
    if excepted.prefixlen <= cidr.prefixlen or not excepted.subnet_of(cidr):  # type: ignore[arg-type]
        return problem
    return None


def parse_ip_address(text: str) -> IPAddress | None:
    """A pod IP (`status.podIP`, `status.podIPs[*].ip`): a plain IPv4 or IPv6 address, or
    None if invalid."""
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def ip_address_error(text: str) -> str | None:
    """A pod IP must be a plain IPv4 or IPv6 address."""
    if parse_ip_address(text) is not None:
        return None
    return f'invalid IP address "{text}"'
