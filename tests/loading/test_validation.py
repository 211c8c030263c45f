"""The API server's rules as pure functions (shared with the spec loader)."""

import ipaddress

import pytest

from netverify.loading.validation import (
    cidr_error,
    dns1123_label_error,
    except_error,
    label_key_error,
    label_value_error,
    parse_cidr,
    port_name_error,
    port_number_error,
    protocol_error,
)


@pytest.mark.parametrize(
    "key",
    [
        "app",
        "App_1.x-y",
        "a",
        "example.com/app",
        "kubernetes.io/metadata.name",
        "a" * 63,
        "b" * 253 + "/x",
        "x.y-z/9",
    ],
)
def test_valid_label_keys(key: str) -> None:
    assert label_key_error(key) is None


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("", "name part must be non-empty"),
        ("a/b/c", "must be a name with an optional DNS subdomain prefix and '/'"),
        ("/app", "prefix part must be non-empty"),
        ("b" * 254 + "/x", "prefix part must be no more than 253 characters"),
        ("Example.com/app", "prefix part must consist of lower case alphanumeric"),
        ("-bad.com/app", "prefix part must consist of lower case alphanumeric"),
        ("a" * 64, "name part must be no more than 63 characters"),
        ("_app", "name part must consist of alphanumeric characters"),
        ("app.", "name part must consist of alphanumeric characters"),
        ("my app", "name part must consist of alphanumeric characters"),
    ],
)
def test_invalid_label_keys(key: str, problem: str) -> None:
    message = label_key_error(key)
    assert message is not None
    assert message.startswith(f'invalid label key "{key}": {problem}')


@pytest.mark.parametrize("value", ["", "web", "Web_1.2-x", "v" * 63, "1"])
def test_valid_label_values(value: str) -> None:
    assert label_value_error(value) is None


@pytest.mark.parametrize("value", ["-web", "web-", "a b", "a/b", "v" * 64, "ü"])
def test_invalid_label_values(value: str) -> None:
    assert label_value_error(value) is not None


@pytest.mark.parametrize("name", ["http", "h2c", "web-8080", "a" * 15, "x-1-y"])
def test_valid_port_names(name: str) -> None:
    assert port_name_error(name) is None


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "must be non-empty"),
        ("a" * 16, "must be no more than 15 characters"),
        ("8080", "must contain at least one letter (a-z)"),
        ("HTTP", "must contain only lower case alphanumeric characters (a-z, 0-9) and '-'"),
        ("a--b", "must not contain consecutive hyphens"),
        ("web-", "must not begin or end with a hyphen"),
    ],
)
def test_invalid_port_names(name: str, problem: str) -> None:
    assert port_name_error(name) == f'invalid port name "{name}": {problem}'


@pytest.mark.parametrize(("port", "valid"), [(0, False), (1, True), (65535, True), (65536, False)])
def test_port_numbers(port: int, valid: bool) -> None:
    assert (port_number_error(port) is None) is valid


def test_protocols_are_case_sensitive() -> None:
    assert [protocol_error(p) for p in ("TCP", "UDP", "SCTP")] == [None, None, None]
    assert protocol_error("Tcp") == (
        'unsupported protocol "Tcp": must be one of "TCP", "UDP", "SCTP"; did you mean "TCP"?'
    )


@pytest.mark.parametrize(
    ("text", "network"),
    [
        ("10.0.0.0/8", "10.0.0.0/8"),
        ("10.1.2.3/8", "10.0.0.0/8"),
        ("0.0.0.0/0", "0.0.0.0/0"),
        ("192.168.1.1/32", "192.168.1.1/32"),
        ("2001:db8::1/64", "2001:db8::/64"),
        ("::/0", "::/0"),
    ],
)
def test_valid_cidrs(text: str, network: str) -> None:
    assert cidr_error(text) is None
    assert parse_cidr(text) == ipaddress.ip_network(network)


@pytest.mark.parametrize(
    "text",
    ["", "10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/255.0.0.0", "010.0.0.0/8",
     "2001:db8::/129", "fe80::1%eth0/64", "10.0.0.0/8 ", "10.0.0.0/-1", "host/8"],
)  # fmt: skip
def test_invalid_cidrs(text: str) -> None:
    assert cidr_error(text) == (
        f'invalid CIDR "{text}": must be a valid CIDR value, e.g. 10.9.8.0/24 or 2001:db8::/64'
    )


def test_except_must_be_strictly_inside() -> None:
    cidr = ipaddress.ip_network("10.0.0.0/8")
    assert except_error(cidr, "10.5.0.0/16") is None
    assert except_error(cidr, "10.5.0.1/16") is None
    assert except_error(cidr, "10.0.0.0/8") is not None
    assert except_error(cidr, "11.0.0.0/16") is not None
    assert except_error(cidr, "::/64") is not None


def test_dns1123_labels() -> None:
    assert dns1123_label_error("kube-system") is None
    assert dns1123_label_error("a" * 63) is None
    assert (
        dns1123_label_error("a" * 64)
        == f'invalid name "{"a" * 64}": must be no more than 63 characters'
    )
    assert dns1123_label_error("") == 'invalid name "": must be non-empty'
    for bad in ("Prod", "a.b", "-a", "a-", "a_b"):
        assert dns1123_label_error(bad) is not None
