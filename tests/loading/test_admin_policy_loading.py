"""ClusterNetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy and Node loading: the
normal form, and one test per CRD validation rule (message, line, field)."""

from ipaddress import ip_address, ip_network
from pathlib import Path

import pytest

from netverify.model import (
    AdminAction,
    AdminPeer,
    Direction,
    LabelSelector,
    NamespacedPods,
    ObjectRef,
    PolicyPort,
    PortRange,
    Protocol,
    RuleRef,
    SourceSpan,
    Tier,
)
from tests.loading.helpers import error, load, load_errors

CNP = """\
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata:
  name: guard
spec:
  tier: Admin
  priority: 10
  subject:
    namespaces: {}
  egress:
  - name: pass-dns
    action: Pass
    to:
    - pods:
        podSelector: {matchLabels: {app: dns}}
    protocols:
    - udp: {destinationPort: {number: 53}}
  - action: Deny
    to:
    - networks: ["10.0.0.0/8"]
    - nodes: {matchLabels: {zone: a}}
    protocols:
    - tcp: {destinationPort: {range: {start: 80, end: 90}}}
"""
CNP_OBJECT = "ClusterNetworkPolicy guard"


def test_a_cluster_network_policy_is_loaded_normalised_with_rule_lines(workdir: Path) -> None:
    loaded = load(workdir, CNP)
    (policy,) = loaded.cluster.admin_policies
    assert (policy.tier, policy.priority) == (Tier.ADMIN, 10)
    assert [rule.action for rule in policy.egress] == [AdminAction.PASS, AdminAction.DENY]
    assert policy.egress[0].name == "pass-dns"
    assert policy.egress[0].ports == (
        PolicyPort(protocol=Protocol.UDP, port_range=PortRange(start=53, end=53)),
    )
    assert policy.egress[1].peers == (
        AdminPeer(networks=(ip_network("10.0.0.0/8"),)),
        AdminPeer(nodes=LabelSelector(match_labels={"zone": "a"})),
    )
    ref = ObjectRef(kind="ClusterNetworkPolicy", namespace=None, name="guard")
    rule = RuleRef(policy=ref, direction=Direction.EGRESS, index=1)
    assert loaded.sources.of_rule(rule) == SourceSpan(file="np.yaml", line=18)
    assert loaded.warnings == () and loaded.cluster.unmodelled == ()


def test_v1alpha1_allow_is_accept_and_named_ports_name_no_protocol(workdir: Path) -> None:
    text = """\
        apiVersion: policy.networking.k8s.io/v1alpha1
        kind: AdminNetworkPolicy
        metadata: {name: anp}
        spec:
          priority: 3
          subject: {pods: {namespaceSelector: {}, podSelector: {}}}
          ingress:
          - action: Allow
            from: [{namespaces: {}}]
            ports: [{namedPort: http}, {portNumber: {port: 8080}}]
        """
    (policy,) = load(workdir, text).cluster.admin_policies
    assert policy.tier is Tier.ADMIN and policy.ingress[0].action is AdminAction.ACCEPT
    assert [port.protocol for port in policy.ingress[0].ports[:3]] == list(Protocol)
    assert policy.ingress[0].ports[3] == PolicyPort(port_range=PortRange(start=8080, end=8080))


BEFORE_V015 = """\
    apiVersion: policy.networking.k8s.io/v1alpha1
    kind: AdminNetworkPolicy
    metadata: {name: anp2}
    spec:
      priority: 2
      subject: {namespaces: {}}
      ingress:
      - name: development-ns
        action: Pass
        from:
        - namespaces:
            namespaceSelector: {matchLabels: {development: "true"}}
        - pods:
            namespaces: {namespaceSelector: {matchLabels: {team: a}}}
            podSelector: {matchLabels: {app: web}}
    """


def test_v1alpha1_peers_written_before_v0_1_5_keep_their_selectors(workdir: Path) -> None:
    """policy-assistant's walkthrough demo writes a peer's `namespaces` as the
    `NamespacedPeer` of v1alpha1 before v0.1.5. Dropping `namespaceSelector` as an unknown
    field would make the peer select every namespace."""
    loaded = load(workdir, BEFORE_V015)
    (policy,) = loaded.cluster.admin_policies
    assert policy.ingress[0].peers == (
        AdminPeer(namespaces=LabelSelector(match_labels={"development": "true"})),
        AdminPeer(
            pods=NamespacedPods(
                namespace_selector=LabelSelector(match_labels={"team": "a"}),
                pod_selector=LabelSelector(match_labels={"app": "web"}),
            )
        ),
    )
    assert loaded.warnings == ()


CNP_WITH_PORTS = CNP.replace(
    "    protocols:\n    - udp: {destinationPort: {number: 53}}\n",
    "    ports:\n    - portNumber: {protocol: UDP, port: 53}\n    - namedPort: dns-tcp\n",
).replace(
    "    protocols:\n    - tcp: {destinationPort: {range: {start: 80, end: 90}}}\n",
    "    ports:\n    - portRange: {start: 80, end: 90}\n",
)


def test_v1alpha2_rules_written_with_ports_before_protocols_keep_their_ports(
    workdir: Path,
) -> None:
    """network-policy-api's conformance manifests wrote v1alpha2 rules with `ports` until
    `protocols` replaced them (February 2026). Dropping `ports` as an unknown field made a
    Deny of ports 80, 53 and 9003 deny every port: a diff across that change listed
    connectivity that the old rules never blocked."""
    loaded = load(workdir, CNP_WITH_PORTS)
    (policy,) = loaded.cluster.admin_policies
    assert policy.egress[0].ports == (
        PolicyPort(protocol=Protocol.UDP, port_range=PortRange(start=53, end=53)),
        *(PolicyPort(protocol=protocol, named_port="dns-tcp") for protocol in Protocol),
    )
    assert policy.egress[1].ports == (
        PolicyPort(protocol=Protocol.TCP, port_range=PortRange(start=80, end=90)),
    )
    assert [warning.message.split(":")[0] for warning in loaded.warnings] == [
        "the v1alpha2 schema before `protocols` replaced `ports`"
    ] * 2
    assert len(load_errors(workdir, CNP_WITH_PORTS, strict=True)) == 2


def test_v1alpha2_allow_before_its_rename_to_accept_is_read_as_accept(workdir: Path) -> None:
    """network-policy-api's manifests until September 2025 wrote `action: Allow`, renamed
    `Accept` with the same meaning: an exit-2 error (not one of Accept, Deny, Pass)."""
    text = CNP.replace("action: Pass", "action: Allow")
    loaded = load(workdir, text)
    (policy,) = loaded.cluster.admin_policies
    assert policy.egress[0].action is AdminAction.ACCEPT
    assert [warning.message for warning in loaded.warnings] == [
        "`Allow` is the policy.networking.k8s.io/v1alpha2 action renamed `Accept` in September "
        "2025 (same meaning): read as `Accept`; write `action: Accept`, as a cluster whose CRD "
        "has `Accept` refuses `Allow`"
    ]
    (strict,) = load_errors(workdir, text, strict=True)
    assert strict.field == "spec.egress[0].action"


@pytest.mark.parametrize("field", ["sameLabels", "notSameLabels"])
def test_same_labels_of_v1alpha1_before_v0_1_5_are_not_modelled(workdir: Path, field: str) -> None:
    text = BEFORE_V015.replace(
        'namespaceSelector: {matchLabels: {development: "true"}}', f"{field}: [env]"
    )
    assert load_errors(workdir, text) == [
        error(
            f"{field} (v1alpha1 before network-policy-api v0.1.5, removed since) is not "
            "modelled: select the namespaces with namespaceSelector",
            12,
            f"spec.ingress[0].from[0].namespaces.{field}",
            obj="AdminNetworkPolicy anp2",
        )
    ]


def test_nodes_keep_their_internal_and_external_addresses(workdir: Path) -> None:
    text = """\
        apiVersion: v1
        kind: Node
        metadata: {name: n1, labels: {zone: a}}
        status:
          addresses:
          - {type: InternalIP, address: 10.1.0.1}
          - {type: ExternalIP, address: 203.0.113.4}
          - {type: Hostname, address: n1}
        """
    (node,) = load(workdir, text).cluster.nodes
    assert node.labels == {"zone": "a"}
    assert node.addresses == (ip_address("10.1.0.1"), ip_address("203.0.113.4"))


@pytest.mark.parametrize(
    ("old", "new", "message", "line", "field"),
    [
        (
            "priority: 10",
            "priority: 1001",
            "must be between 0 and 1000, inclusive (got 1001)",
            7,
            "spec.priority",
        ),
        (
            "tier: Admin",
            "tier: admin",
            'unsupported tier "admin": must be one of "Admin", "Baseline"; did you mean "Admin"?',
            6,
            "spec.tier",
        ),
        (
            "action: Pass",
            "action: Reject",
            'unsupported action "Reject": must be one of "Accept", "Deny", "Pass"',
            12,
            "spec.egress[0].action",
        ),
        (
            "namespaces: {}\n",
            "namespaces: {}\n    pods: {podSelector: {}}\n",
            "must set exactly one of namespaces, pods (set: namespaces, pods)",
            8,
            "spec.subject",
        ),
        (
            "start: 80, end: 90",
            "start: 90, end: 90",
            "must be greater than `start` (90) (got 90)",
            23,
            "spec.egress[1].protocols[0].tcp.destinationPort.range.end",
        ),
        (
            '- networks: ["10.0.0.0/8"]',
            '- networks: ["10.0.0.0/8"]\n      nodes: {}',
            "must set exactly one of namespaces, pods, nodes, networks, domainNames "
            "(set: nodes, networks)",
            20,
            "spec.egress[1].to[0]",
        ),
        (
            '["10.0.0.0/8"]',
            '["10.0.0.0/33"]',
            'invalid CIDR "10.0.0.0/33": must be a valid CIDR value, e.g. 10.9.8.0/24 or '
            "2001:db8::/64",
            20,
            "spec.egress[1].to[0].networks[0]",
        ),
        (
            "    - udp: {destinationPort: {number: 53}}",
            "    - udp: {destinationPort: {number: 53}}\n      tcp: {destinationPort: {number: 1}}",
            "must set exactly one of tcp, udp, sctp, destinationNamedPort (set: tcp, udp)",
            17,
            "spec.egress[0].protocols[0]",
        ),
        (
            "{number: 53}",
            "{number: 0}",
            "invalid port 0: must be between 1 and 65535, inclusive",
            17,
            "spec.egress[0].protocols[0].udp.destinationPort.number",
        ),
    ],
)
def test_cluster_network_policy_validation(
    workdir: Path, old: str, new: str, message: str, line: int, field: str
) -> None:
    assert old in CNP
    assert load_errors(workdir, CNP.replace(old, new, 1)) == [
        error(message, line, field, obj=CNP_OBJECT)
    ]


def test_at_most_25_rules_and_1_to_25_peers(workdir: Path) -> None:
    rule = "  - action: Deny\n    to: [{namespaces: {}}]\n"
    many_rules = CNP.split("  egress:\n")[0] + "  egress:\n" + rule * 26
    assert load_errors(workdir, many_rules) == [
        error("must have at most 25 rules (has 26)", 10, "spec.egress", obj=CNP_OBJECT)
    ]
    no_peers = CNP.split("  egress:\n")[0] + "  egress:\n  - action: Deny\n    to: []\n"
    assert load_errors(workdir, no_peers) == [
        error("must have at least 1 item", 12, "spec.egress[0].to", obj=CNP_OBJECT)
    ]
    peers = "[" + ", ".join(["{namespaces: {}}"] * 26) + "]"
    too_many = CNP.split("  egress:\n")[0] + f"  egress:\n  - action: Deny\n    to: {peers}\n"
    assert load_errors(workdir, too_many) == [
        error("must have at most 25 items (has 26)", 12, "spec.egress[0].to", obj=CNP_OBJECT)
    ]


def test_named_ports_cannot_go_with_networks_nodes_or_domain_names(workdir: Path) -> None:
    text = CNP.replace(
        "- tcp: {destinationPort: {range: {start: 80, end: 90}}}", "- destinationNamedPort: http"
    )
    assert load_errors(workdir, text) == [
        error(
            "networks/nodes/domainNames peer cannot be set with named ports since there are "
            "no named ports for networks/nodes/domainNames",
            22,
            "spec.egress[1].protocols",
            obj=CNP_OBJECT,
        )
    ]


def test_ingress_peers_are_only_namespaces_and_pods(workdir: Path) -> None:
    text = CNP.split("  egress:\n")[0] + (
        '  ingress:\n  - action: Deny\n    from: [{networks: ["10.0.0.0/8"]}]\n'
    )
    diagnostics = load_errors(workdir, text)
    # The unknown-field warning is not shown beside errors: the error names the field.
    assert diagnostics[0].message == (
        "must set exactly one of namespaces, pods (set: none; not allowed here: networks)"
    )
    assert diagnostics[0].field == "spec.ingress[0].from[0]"


def test_a_baseline_admin_network_policy_must_be_named_default(workdir: Path) -> None:
    text = """\
        apiVersion: policy.networking.k8s.io/v1alpha1
        kind: BaselineAdminNetworkPolicy
        metadata: {name: other}
        spec:
          subject: {namespaces: {}}
          egress:
          - action: Pass
            to: [{namespaces: {}}]
        """
    obj = "BaselineAdminNetworkPolicy other"
    assert load_errors(workdir, text) == [
        error(
            'must be "default": only one BaselineAdminNetworkPolicy, named "default", can '
            'exist in a cluster (got "other")',
            3,
            "metadata.name",
            obj=obj,
        ),
        error(
            'unsupported action "Pass": must be one of "Allow", "Deny"',
            7,
            "spec.egress[0].action",
            obj=obj,
        ),
    ]


def test_domain_names_only_in_accept_rules_and_valid(workdir: Path) -> None:
    text = CNP.replace('- networks: ["10.0.0.0/8"]', '- domainNames: ["*.example.com", "-bad"]')
    text = text.replace("    - nodes: {matchLabels: {zone: a}}\n", "")
    messages = [d.message for d in load_errors(workdir, text)]
    assert messages == [
        'invalid domain name "-bad": must be a DNS name, optionally starting with "*."',
        "domainNames peers are only supported for Accept/Allow rules",
    ]
