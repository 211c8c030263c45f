"""One test per API-server validation rule: exact message, file, line, object and field."""

from pathlib import Path

import pytest

from netverify.loading import load_manifests
from netverify.model import (
    Direction,
    InputError,
    IPBlock,
    LabelSelector,
    NetworkPolicy,
    PolicyPeer,
    Severity,
)
from tests.loading.helpers import error, load, load_errors, policy

# Line numbers below: `policy()` puts the first line of the spec body on line 7.


def test_label_key_with_invalid_prefix_in_match_labels(workdir: Path) -> None:
    text = policy(
        """
        podSelector:
          matchLabels:
            Example.COM/app: web
        """
    )
    assert load_errors(workdir, text) == [
        error(
            'invalid label key "Example.COM/app": prefix part must consist of lower case '
            "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric "
            "character (e.g. 'example.com')",
            9,
            'spec.podSelector.matchLabels["Example.COM/app"]',
        )
    ]


def test_label_key_name_part_too_long(workdir: Path) -> None:
    key = "a" * 64
    text = policy(f"podSelector:\n  matchLabels:\n    {key}: web\n")
    assert load_errors(workdir, text) == [
        error(
            f'invalid label key "{key}": name part must be no more than 63 characters',
            9,
            f"spec.podSelector.matchLabels.{key}",
        )
    ]


def test_label_key_with_empty_name_part(workdir: Path) -> None:
    text = policy('podSelector:\n  matchLabels:\n    "example.com/": web\n')
    assert load_errors(workdir, text) == [
        error(
            'invalid label key "example.com/": name part must be non-empty',
            9,
            'spec.podSelector.matchLabels["example.com/"]',
        )
    ]


def test_label_value_with_invalid_characters(workdir: Path) -> None:
    text = policy("podSelector:\n  matchLabels:\n    app: web server\n")
    assert load_errors(workdir, text) == [
        error(
            'invalid label value "web server": must be empty or consist of alphanumeric '
            "characters, '-', '_' or '.', and must start and end with an alphanumeric "
            "character (e.g. 'MyValue' or 'my_value')",
            9,
            "spec.podSelector.matchLabels.app",
        )
    ]


def test_label_value_too_long_in_pod_metadata(workdir: Path) -> None:
    value = "v" * 64
    text = f"""\
        apiVersion: v1
        kind: Pod
        metadata:
          name: web
          namespace: prod
          labels:
            app: {value}
        """
    assert load_errors(workdir, text) == [
        error(
            f'invalid label value "{value}": must be no more than 63 characters',
            7,
            "metadata.labels.app",
            obj="Pod prod/web",
        )
    ]


def test_label_value_that_yaml_reads_as_a_number(workdir: Path) -> None:
    text = """\
        apiVersion: v1
        kind: Namespace
        metadata:
          name: prod
          labels:
            version: 1
        """
    assert load_errors(workdir, text) == [
        error(
            'expected a string, got an integer (1); quote it: "1"',
            6,
            "metadata.labels.version",
            obj="Namespace prod",
        )
    ]


def test_label_rules_apply_to_workload_templates(workdir: Path) -> None:
    text = """\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: prod}
        spec:
          template:
            metadata:
              labels:
                -app: web
        """
    [diagnostic] = load_errors(workdir, text)
    assert diagnostic.span is not None and diagnostic.span.line == 8
    assert diagnostic.object == "Deployment prod/web"
    assert diagnostic.field == 'spec.template.metadata.labels["-app"]'
    assert diagnostic.message.startswith('invalid label key "-app": name part must consist')


def test_selector_operator_is_case_sensitive(workdir: Path) -> None:
    text = policy(
        """
        podSelector:
          matchExpressions:
          - key: app
            operator: in
            values: [web]
        """
    )
    assert load_errors(workdir, text) == [
        error(
            'unsupported operator "in": must be one of "In", "NotIn", "Exists", '
            '"DoesNotExist"; did you mean "In"?',
            10,
            "spec.podSelector.matchExpressions[0].operator",
        )
    ]


@pytest.mark.parametrize("values", ["", "values: []", "values: null"])
def test_in_and_not_in_need_values(workdir: Path, values: str) -> None:
    text = policy(
        f"""
        podSelector:
          matchExpressions:
          - key: app
            operator: NotIn
            {values}
        """
    )
    assert load_errors(workdir, text) == [
        error(
            "must be specified when `operator` is 'In' or 'NotIn'",
            9 if values == "" else 11,
            "spec.podSelector.matchExpressions[0].values",
        )
    ]


def test_exists_may_not_have_values(workdir: Path) -> None:
    text = policy(
        """
        podSelector:
          matchExpressions:
          - key: app
            operator: Exists
            values: [web]
        """
    )
    assert load_errors(workdir, text) == [
        error(
            "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            11,
            "spec.podSelector.matchExpressions[0].values",
        )
    ]


def test_exists_and_does_not_exist_accept_empty_values(workdir: Path) -> None:
    text = policy(
        """
        podSelector:
          matchExpressions:
          - {key: app, operator: Exists, values: []}
          - {key: tier, operator: DoesNotExist}
        """
    )
    [np] = load(workdir, text).cluster.policies
    assert [(r.key, r.operator.value, r.values) for r in np.pod_selector.match_expressions] == [
        ("app", "Exists", ()),
        ("tier", "DoesNotExist", ()),
    ]


def test_requirement_key_and_values_are_labels(workdir: Path) -> None:
    text = policy(
        """
        podSelector:
          matchExpressions:
          - key: app/
            operator: In
            values:
            - ok
            - "not ok"
        """
    )
    assert load_errors(workdir, text) == [
        error(
            'invalid label key "app/": name part must be non-empty',
            9,
            "spec.podSelector.matchExpressions[0].key",
        ),
        error(
            'invalid label value "not ok": must be empty or consist of alphanumeric '
            "characters, '-', '_' or '.', and must start and end with an alphanumeric "
            "character (e.g. 'MyValue' or 'my_value')",
            13,
            "spec.podSelector.matchExpressions[0].values[1]",
        ),
    ]


@pytest.mark.parametrize("port", [0, 65536, -1])
def test_policy_port_out_of_range(workdir: Path, port: int) -> None:
    text = policy(f"podSelector: {{}}\ningress:\n- ports:\n  - port: {port}\n")
    assert load_errors(workdir, text) == [
        error(
            f"invalid port {port}: must be between 1 and 65535, inclusive",
            10,
            "spec.ingress[0].ports[0].port",
        )
    ]


def test_end_port_out_of_range(workdir: Path) -> None:
    text = policy("podSelector: {}\negress:\n- ports:\n  - port: 80\n    endPort: 70000\n")
    assert load_errors(workdir, text) == [
        error(
            "invalid port 70000: must be between 1 and 65535, inclusive",
            11,
            "spec.egress[0].ports[0].endPort",
        )
    ]


def test_end_port_below_port(workdir: Path) -> None:
    text = policy("podSelector: {}\ningress:\n- ports:\n  - port: 90\n    endPort: 80\n")
    assert load_errors(workdir, text) == [
        error(
            "must be greater than or equal to `port` (90)",
            11,
            "spec.ingress[0].ports[0].endPort",
        )
    ]


def test_end_port_without_port(workdir: Path) -> None:
    text = policy("podSelector: {}\ningress:\n- ports:\n  - protocol: UDP\n    endPort: 80\n")
    assert load_errors(workdir, text) == [
        error(
            "may not be specified when `port` is not specified",
            11,
            "spec.ingress[0].ports[0].endPort",
        )
    ]


def test_end_port_with_named_port(workdir: Path) -> None:
    text = policy("podSelector: {}\ningress:\n- ports:\n  - port: http\n    endPort: 80\n")
    assert load_errors(workdir, text) == [
        error(
            "may not be specified when `port` is non-numeric",
            11,
            "spec.ingress[0].ports[0].endPort",
        )
    ]


def test_quoted_number_is_a_port_name_without_a_letter(workdir: Path) -> None:
    text = policy('podSelector: {}\ningress:\n- ports:\n  - port: "80"\n')
    assert load_errors(workdir, text) == [
        error(
            'invalid port name "80": must contain at least one letter (a-z); '
            "to mean port number 80, write it without quotes",
            10,
            "spec.ingress[0].ports[0].port",
        )
    ]


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("Http", "must contain only lower case alphanumeric characters (a-z, 0-9) and '-'"),
        ("my--port", "must not contain consecutive hyphens"),
        ("-web", "must not begin or end with a hyphen"),
        ("a-very-long-port-name", "must be no more than 15 characters"),
        ("web_1", "must contain only lower case alphanumeric characters (a-z, 0-9) and '-'"),
    ],
)
def test_named_port_follows_iana_service_names(workdir: Path, name: str, problem: str) -> None:
    text = policy(f"podSelector: {{}}\ningress:\n- ports:\n  - port: {name}\n")
    assert load_errors(workdir, text) == [
        error(f'invalid port name "{name}": {problem}', 10, "spec.ingress[0].ports[0].port")
    ]


def test_container_port_rules(workdir: Path) -> None:
    text = """\
        apiVersion: v1
        kind: Pod
        metadata: {name: web, namespace: prod}
        spec:
          containers:
          - name: app
            ports:
            - containerPort: 0
              name: HTTP
              protocol: tcp
        """
    assert load_errors(workdir, text) == [
        error(
            'invalid port name "HTTP": must contain only lower case alphanumeric characters '
            "(a-z, 0-9) and '-'",
            9,
            "spec.containers[0].ports[0].name",
            obj="Pod prod/web",
        ),
        error(
            "invalid port 0: must be between 1 and 65535, inclusive",
            8,
            "spec.containers[0].ports[0].containerPort",
            obj="Pod prod/web",
        ),
        error(
            'unsupported protocol "tcp": must be one of "TCP", "UDP", "SCTP"; did you mean "TCP"?',
            10,
            "spec.containers[0].ports[0].protocol",
            obj="Pod prod/web",
        ),
    ]


def test_protocol_is_case_sensitive(workdir: Path) -> None:
    text = policy("podSelector: {}\ningress:\n- ports:\n  - port: 53\n    protocol: udp\n")
    assert load_errors(workdir, text) == [
        error(
            'unsupported protocol "udp": must be one of "TCP", "UDP", "SCTP"; did you mean "UDP"?',
            11,
            "spec.ingress[0].ports[0].protocol",
        )
    ]


def test_unknown_protocol_has_no_hint(workdir: Path) -> None:
    text = policy("podSelector: {}\ningress:\n- ports:\n  - protocol: ICMP\n")
    [diagnostic] = load_errors(workdir, text)
    assert diagnostic.message == 'unsupported protocol "ICMP": must be one of "TCP", "UDP", "SCTP"'


@pytest.mark.parametrize("cidr", ["10.0.0.0/33", "10.0.0.1", "10.0.0.0/255.0.0.0", "bogus", ""])
def test_invalid_cidr(workdir: Path, cidr: str) -> None:
    text = policy(f'podSelector: {{}}\negress:\n- to:\n  - ipBlock:\n      cidr: "{cidr}"\n')
    assert load_errors(workdir, text) == [
        error(
            f'invalid CIDR "{cidr}": must be a valid CIDR value, e.g. 10.9.8.0/24 or 2001:db8::/64',
            11,
            "spec.egress[0].to[0].ipBlock.cidr",
        )
    ]


def test_missing_cidr(workdir: Path) -> None:
    text = policy("podSelector: {}\negress:\n- to:\n  - ipBlock:\n      except: [10.0.0.0/8]\n")
    assert load_errors(workdir, text) == [
        error('missing required field "cidr"', 10, "spec.egress[0].to[0].ipBlock.cidr")
    ]


def test_cidr_with_host_bits_is_accepted_as_its_network(workdir: Path) -> None:
    text = policy(
        """
        podSelector: {}
        egress:
        - to:
          - ipBlock: {cidr: 10.1.2.3/8, except: [10.1.2.3/16]}
          - ipBlock: {cidr: "2001:db8::1/32"}
        """
    )
    [np] = load(workdir, text).cluster.policies
    blocks = [peer.ip_block for peer in np.egress[0].peers]
    assert [str(b.cidr) for b in blocks if b] == ["10.0.0.0/8", "2001:db8::/32"]
    assert blocks[0] is not None
    assert [str(e) for e in blocks[0].excepts] == ["10.1.0.0/16"]


@pytest.mark.parametrize(
    ("excepted", "message"),
    [
        (
            "192.168.0.0/16",
            'invalid except "192.168.0.0/16": must be a strict subset of `cidr` (10.0.0.0/8)',
        ),
        (
            "10.0.0.0/8",
            'invalid except "10.0.0.0/8": must be a strict subset of `cidr` (10.0.0.0/8)',
        ),
        (
            "10.0.0.0/7",
            'invalid except "10.0.0.0/7": must be a strict subset of `cidr` (10.0.0.0/8)',
        ),
        (
            "2001:db8::/64",
            'invalid except "2001:db8::/64": must be a strict subset of `cidr` (10.0.0.0/8); '
            "it is IPv6, `cidr` is IPv4",
        ),
        (
            "10.1.0.0",
            'invalid CIDR "10.1.0.0": must be a valid CIDR value, e.g. 10.9.8.0/24 or '
            "2001:db8::/64",
        ),
    ],
)
def test_except_must_be_a_strict_subset(workdir: Path, excepted: str, message: str) -> None:
    text = policy(
        f"""
        podSelector: {{}}
        ingress:
        - from:
          - ipBlock:
              cidr: 10.0.0.0/8
              except:
              - 10.1.0.0/16
              - "{excepted}"
        """
    )
    assert load_errors(workdir, text) == [
        error(message, 14, "spec.ingress[0].from[0].ipBlock.except[1]")
    ]


@pytest.mark.parametrize("selector", ["podSelector", "namespaceSelector"])
def test_ip_block_may_not_be_combined_with_a_selector(workdir: Path, selector: str) -> None:
    text = policy(
        f"""
        podSelector: {{}}
        ingress:
        - from:
          - {selector}: {{}}
          - {selector}: {{}}
            ipBlock: {{cidr: 10.0.0.0/8}}
        """
    )
    assert load_errors(workdir, text) == [
        error(
            "may not specify more than 1 peer type: "
            "ipBlock cannot be combined with podSelector or namespaceSelector",
            11,
            "spec.ingress[0].from[1]",
        )
    ]


@pytest.mark.parametrize("peer", ["{}", "{podSelector: null}", "null"])
def test_peer_must_specify_something(workdir: Path, peer: str) -> None:
    text = policy(f"podSelector: {{}}\negress:\n- to:\n  - {peer}\n")
    assert load_errors(workdir, text) == [
        error(
            "must specify a peer: podSelector, namespaceSelector or ipBlock",
            10,
            "spec.egress[0].to[0]",
        )
    ]


def test_policy_type_is_case_sensitive(workdir: Path) -> None:
    text = policy("podSelector: {}\npolicyTypes: [Ingress, egress]\n")
    assert load_errors(workdir, text) == [
        error(
            'unsupported policy type "egress": must be one of "Ingress", "Egress"; '
            'did you mean "Egress"?',
            8,
            "spec.policyTypes[1]",
        )
    ]


def test_duplicate_policy_type(workdir: Path) -> None:
    text = policy("podSelector: {}\npolicyTypes:\n- Egress\n- Egress\n")
    assert load_errors(workdir, text) == [
        error('duplicate policy type "Egress"', 10, "spec.policyTypes[1]")
    ]


@pytest.mark.parametrize("spec", ["policyTypes: [Ingress]", "podSelector: null"])
def test_absent_or_null_pod_selector_selects_every_pod(workdir: Path, spec: str) -> None:
    # kubernetes/kubernetes#131354: podSelector may be omitted; the API server stores `{}`.
    [loaded] = load(workdir, policy(spec)).cluster.policies
    assert loaded.pod_selector == LabelSelector()
    assert loaded.policy_types == {Direction.INGRESS}


def test_policy_without_spec_selects_every_pod(workdir: Path) -> None:
    text = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np}\n"
    [loaded] = load(workdir, text).cluster.policies
    assert (loaded.namespace, loaded.pod_selector) == ("default", LabelSelector())


@pytest.mark.parametrize(
    ("spec", "line", "field", "message"),
    [
        (
            'podSelector: "app=web"',
            7,
            "spec.podSelector",
            'expected a mapping, got a string ("app=web")',
        ),
        (
            "podSelector: {}\ningress:\n- ports: 80",
            9,
            "spec.ingress[0].ports",
            "expected a list, got an integer (80)",
        ),
        (
            "podSelector: {}\ningress:\n- ports:\n  - port: true",
            10,
            "spec.ingress[0].ports[0].port",
            "expected a port number or a port name, got a boolean (true)",
        ),
        (
            "podSelector: {}\ningress:\n- from: {}",
            9,
            "spec.ingress[0].from",
            "expected a list, got a mapping",
        ),
        ("podSelector: {}\negress: {}", 8, "spec.egress", "expected a list, got a mapping"),
        (
            "podSelector: {}\npolicyTypes: Ingress",
            8,
            "spec.policyTypes",
            'expected a list, got a string ("Ingress")',
        ),
        (
            "podSelector:\n  matchLabels: [app]",
            8,
            "spec.podSelector.matchLabels",
            "expected a mapping, got a list",
        ),
        (
            "podSelector: {}\ningress:\n- ports:\n  - port: 80.5",
            10,
            "spec.ingress[0].ports[0].port",
            "expected a port number or a port name, got a number (80.5)",
        ),
        (
            "podSelector: {}\ningress:\n- ports:\n  - {port: 80, endPort: '90'}",
            10,
            "spec.ingress[0].ports[0].endPort",
            'expected an integer, got a string ("90")',
        ),
        (
            "podSelector: {}\ningress:\n- [a]",
            9,
            "spec.ingress[0]",
            "expected a mapping, got a list",
        ),
    ],
)
def test_wrong_types(workdir: Path, spec: str, line: int, field: str, message: str) -> None:
    assert load_errors(workdir, policy(spec)) == [error(message, line, field)]


def test_spec_of_wrong_type(workdir: Path) -> None:
    assert load_errors(workdir, policy("").replace("spec:\n", "spec: [1]\n")) == [
        error("expected a mapping, got a list", 6, "spec")
    ]


def test_metadata_name_is_required(workdir: Path) -> None:
    text = "apiVersion: v1\nkind: Pod\nmetadata:\n  namespace: prod\n"
    assert load_errors(workdir, text) == [
        error('missing required field "name"', 3, "metadata.name", obj="Pod")
    ]


def test_metadata_is_required(workdir: Path) -> None:
    text = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nspec: {podSelector: {}}\n"
    assert load_errors(workdir, text) == [
        error('missing required field "metadata"', 1, "metadata", obj="NetworkPolicy")
    ]


def test_namespace_name_must_be_a_dns_label(workdir: Path) -> None:
    text = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: Prod_1\n"
    assert load_errors(workdir, text) == [
        error(
            'invalid namespace name "Prod_1": a DNS-1123 label must consist of lower case '
            "alphanumeric characters or '-', and must start and end with an alphanumeric "
            "character (e.g. 'my-name' or '123-abc')",
            4,
            "metadata.name",
            obj="Namespace Prod_1",
        )
    ]


def test_object_namespace_must_be_a_dns_label(workdir: Path) -> None:
    text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: my.ns\n"
    [diagnostic] = load_errors(workdir, text)
    assert (diagnostic.field, diagnostic.object) == ("metadata.namespace", "Pod")
    assert diagnostic.message.startswith('invalid namespace "my.ns": a DNS-1123 label')
    assert diagnostic.span is not None and diagnostic.span.line == 5


def test_unknown_field_is_a_warning(workdir: Path) -> None:
    text = policy(
        """
        podSelector: {}
        ingress:
        - from:
          - podSelector: {}
            foo: 1
        """
    )
    loaded = load(workdir, text)
    assert loaded.warnings == (
        error('unknown field "foo"', 11, "spec.ingress[0].from[0].foo", severity=Severity.WARNING),
    )
    assert len(loaded.cluster.policies) == 1


def test_unknown_field_is_an_error_under_strict(workdir: Path) -> None:
    text = policy("podSelector: {}\ningress:\n- from: []\n  ports:\n  - port: 80\n    foo: 1\n")
    assert load_errors(workdir, text, strict=True) == [
        error('unknown field "foo"', 12, "spec.ingress[0].ports[0].foo")
    ]


@pytest.mark.parametrize(
    ("spec", "line", "field", "key"),
    [
        ("podSelector: {}\nfoo: 1", 8, "spec.foo", "foo"),
        ("podSelector:\n  foo: {}", 8, "spec.podSelector.foo", "foo"),
        ("podSelector: {}\negress:\n- from: []", 9, "spec.egress[0].from", "from"),
        (
            "podSelector: {}\negress:\n- to:\n  - ipBlock: {cidr: 10.0.0.0/8, foo: 1}",
            10,
            "spec.egress[0].to[0].ipBlock.foo",
            "foo",
        ),
        (
            "podSelector:\n  matchExpressions:\n  - {key: a, operator: Exists, foo: 1}",
            9,
            "spec.podSelector.matchExpressions[0].foo",
            "foo",
        ),
    ],
)
def test_unknown_fields_at_every_level(
    workdir: Path, spec: str, line: int, field: str, key: str
) -> None:
    loaded = load(workdir, policy(spec))
    assert loaded.warnings == (
        error(f'unknown field "{key}"', line, field, severity=Severity.WARNING),
    )


def test_unknown_field_with_wrong_case_gets_a_hint(workdir: Path) -> None:
    loaded = load(workdir, policy("podSelector: {}\nIngress: []\n"))
    assert [w.message for w in loaded.warnings] == [
        'unknown field "Ingress"; did you mean "ingress"?'
    ]


def test_unknown_top_level_field_and_free_form_metadata(workdir: Path) -> None:
    text = policy("podSelector: {}").replace(
        "metadata:\n", "metadata:\n  annotations: {a: b}\n  uid: x\n"
    )
    loaded = load(workdir, text + "extra: 1\n")
    assert [(w.field, w.message) for w in loaded.warnings] == [("extra", 'unknown field "extra"')]


def test_every_error_of_every_file_is_reported(workdir: Path) -> None:
    (workdir / "a.yaml").write_text(policy("podSelector: {}\npolicyTypes: [ingress]\n"))
    (workdir / "b.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {}\n")
    (workdir / "c.yaml").write_text("key: [unclosed\n")
    with pytest.raises(InputError) as caught:
        load_manifests(["a.yaml", "b.yaml", "c.yaml", "missing.yaml"])
    files = [d.span.file if d.span else None for d in caught.value.diagnostics]
    assert files == ["a.yaml", "b.yaml", "c.yaml", None]
    assert caught.value.diagnostics[3].message == "missing.yaml: no such file or directory"


def test_edge_cases_the_api_server_accepts(workdir: Path) -> None:
    text = policy(
        """
        podSelector: {}
        policyTypes: [Egress, Ingress]
        ingress:
        - {}
        - from: []
          ports: []
        - from:
          - namespaceSelector: {}
            podSelector: {}
          - namespaceSelector: {matchLabels: {}, matchExpressions: []}
        egress: []
        """
    )
    [np] = load(workdir, text).cluster.policies
    assert np.policy_types == {Direction.INGRESS, Direction.EGRESS}
    assert np.egress == ()
    assert [len(rule.peers) for rule in np.ingress] == [0, 0, 2]
    assert np.ingress[2].peers[1] == PolicyPeer(namespace_selector=LabelSelector())


def test_ingress_rules_under_egress_only_policy_are_kept(workdir: Path) -> None:
    text = policy("podSelector: {}\npolicyTypes: [Egress]\ningress:\n- {}\n")
    [np] = load(workdir, text).cluster.policies
    assert np == NetworkPolicy(
        namespace="prod",
        name="np",
        pod_selector=LabelSelector(),
        policy_types=frozenset({Direction.EGRESS}),
        ingress=(np.ingress[0],),
    )
    assert np.ingress[0].peers == () and np.ingress[0].ports == ()


def test_ipv6_ip_block(workdir: Path) -> None:
    text = policy(
        """
        podSelector: {}
        ingress:
        - from:
          - ipBlock: {cidr: "2001:db8::/32", except: ["2001:db8:1::/48"]}
        """
    )
    [np] = load(workdir, text).cluster.policies
    [peer] = np.ingress[0].peers
    assert peer.ip_block is not None
    assert peer.ip_block == IPBlock.model_validate(
        {"cidr": "2001:db8::/32", "excepts": ["2001:db8:1::/48"]}
    )
