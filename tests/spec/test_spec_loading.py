"""Spec files: every error with its exact message, file, line and field path; every resolution.

Specs are written to `spec.yaml` in a temporary current directory that holds a copy of the blog
example in `blog/` (namespaces ns-1..3 labelled env=dev/prod/qa, pods pod1..3 with a named port
`http`), so that spans read `spec.yaml:<line>`.
"""

import textwrap
from pathlib import Path

import pytest

from netverify.loading import load_manifests
from netverify.loading.spec import resolve_spec
from netverify.loading.specfile import read_spec
from netverify.model import (
    Cluster,
    Diagnostic,
    EndpointPattern,
    InputError,
    Invariant,
    InvariantKind,
    LabelRequirement,
    LabelSelector,
    LoadedSpec,
    NamespaceScope,
    Operator,
    PodScope,
    PortPattern,
    PortRange,
    Protocol,
    Settings,
    Severity,
    SourceSpan,
)

SPEC = "spec.yaml"
FLOW_LINE = 5
"""The line of the first line of the body written by `forbid()`."""


def forbid(body: str, *, before: str = "") -> str:
    """A spec with one forbid invariant `a`; `body` (unindented YAML) starts at line 5.

    `before` holds invariant fields written between `name` and `forbid` (each line shifts the
    body down by one).
    """
    flows = textwrap.indent(textwrap.dedent(body).strip("\n"), " " * 6)
    extra = textwrap.indent(textwrap.dedent(before).strip("\n"), " " * 4)
    return (
        "manifests: [blog]\n"
        "invariants:\n"
        "  - name: a\n" + (f"{extra}\n" if before else "") + "    forbid:\n" + f"{flows}\n"
    )


def write_spec(text: str, path: str = SPEC) -> str:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def load(text: str, cluster: Cluster) -> LoadedSpec:
    return resolve_spec(read_spec(write_spec(text)), cluster)


def spec_errors(text: str, cluster: Cluster) -> list[Diagnostic]:
    """The diagnostics of the `InputError` that reading and resolving `text` must raise."""
    with pytest.raises(InputError) as caught:
        load(text, cluster)
    assert caught.value.diagnostics, "an InputError must carry at least one diagnostic"
    assert all(d.severity is Severity.ERROR for d in caught.value.diagnostics)
    return caught.value.diagnostics


def only_error(text: str, cluster: Cluster) -> Diagnostic:
    errors = spec_errors(text, cluster)
    assert len(errors) == 1, [str(d) for d in errors]
    return errors[0]


def at(line: int, field: str | None) -> tuple[SourceSpan, str | None]:
    return SourceSpan(file=SPEC, line=line), field


def where(diagnostic: Diagnostic) -> tuple[SourceSpan | None, str | None]:
    return diagnostic.span, diagnostic.field


def first_invariant(text: str, cluster: Cluster) -> Invariant:
    return load(text, cluster).spec.invariants[0]


# --- schema errors -------------------------------------------------------------------------


def test_unknown_top_level_key(workdir: Path, blog: Cluster) -> None:
    error = only_error(
        """
        manifests: [blog]
        manifest_dirs: [blog]
        invariants:
          - name: a
            forbid: {}
        """,
        blog,
    )
    assert (
        error.message
        == 'unknown field "manifest_dirs" (a spec has manifests, settings and invariants)'
    )
    assert where(error) == at(2, None)


def test_unknown_key_in_an_invariant(workdir: Path, blog: Cluster) -> None:
    error = only_error(forbid("from: {namespace: ns-1}", before="severity: high"), blog)
    assert (
        error.message
        == 'unknown field "severity" (an invariant has name, description, pods, namespaces '
        "and exactly one of forbid, require, reachable)"
    )
    assert where(error) == at(4, "invariants[0]")


def test_unknown_key_in_an_endpoint(workdir: Path, blog: Cluster) -> None:
    text = forbid(
        """
        from:
          namespace: ns-1
          pods: pod1
        """
    )
    error = only_error(text, blog)
    assert error.message == 'unknown field "pods" (an endpoint has namespace, pod, ip and service)'
    assert where(error) == at(FLOW_LINE + 2, "invariants[0].forbid.from")


def test_unknown_key_in_settings(workdir: Path, blog: Cluster) -> None:
    error = only_error(
        """
        manifests: [blog]
        settings:
          ipBlockMatchPods: false
        invariants:
          - name: a
            forbid: {}
        """,
        blog,
    )
    assert (
        error.message
        == 'unknown field "ipBlockMatchPods" (settings are ipBlockMatchesPods and podCIDRs)'
    )
    assert where(error) == at(3, "settings")


def test_two_kinds_in_one_invariant(workdir: Path, blog: Cluster) -> None:
    error = only_error(
        """
        manifests: [blog]
        invariants:
          - name: a
            forbid: {}
            reachable: {}
        """,
        blog,
    )
    assert error.message == (
        "needs exactly one of forbid, require, reachable (found forbid and reachable)"
    )
    assert where(error) == at(3, "invariants[0]")


def test_no_kind_in_an_invariant(workdir: Path, blog: Cluster) -> None:
    error = only_error(
        """
        manifests: [blog]
        invariants:
          - name: a
            description: nothing to check
        """,
        blog,
    )
    assert error.message == "needs exactly one of forbid, require, reachable (found none)"
    assert where(error) == at(3, "invariants[0]")


def test_an_invariant_needs_a_name(workdir: Path, blog: Cluster) -> None:
    error = only_error(
        """
        manifests: [blog]
        invariants:
          - forbid: {}
        """,
        blog,
    )
    assert error.message == 'missing required field "name"'
    assert where(error) == at(3, "invariants[0]")


def test_duplicate_invariant_names_name_the_first_line(workdir: Path, blog: Cluster) -> None:
    error = only_error(
        """
        manifests: [blog]
        invariants:
          - name: a
            forbid: {}
          - name: b
            forbid: {}
          - name: a
            reachable: {}
        """,
        blog,
    )
    assert error.message == 'duplicate invariant name "a" (first at line 3)'
    assert where(error) == at(7, "invariants[2].name")


def test_missing_manifests(workdir: Path, blog: Cluster) -> None:
    error = only_error(
        """
        invariants:
          - name: a
            forbid: {}
        """,
        blog,
    )
    assert error.message == 'missing required field "manifests"'
    assert where(error) == at(1, None)


def test_empty_invariants(workdir: Path, blog: Cluster) -> None:
    error = only_error("manifests: [blog]\ninvariants: []\n", blog)
    assert error.message == "needs at least one entry"
    assert where(error) == at(2, "invariants")


def test_two_yaml_documents(workdir: Path, blog: Cluster) -> None:
    error = only_error(
        """
        manifests: [blog]
        invariants:
          - name: a
            forbid: {}
        ---
        manifests: [blog]
        """,
        blog,
    )
    assert error.message == "a spec file holds exactly one YAML document, found 2"
    assert error.span == SourceSpan(file=SPEC, line=1)


def test_yaml_syntax_error_names_its_line(workdir: Path, blog: Cluster) -> None:
    error = only_error(
        """
        manifests: [blog]
        invariants:
          - name: a
            forbid: {from: [}
        """,
        blog,
    )
    assert error.message.startswith("invalid YAML: ")
    assert error.span == SourceSpan(file=SPEC, line=4)


def test_missing_spec_file(workdir: Path) -> None:
    with pytest.raises(InputError) as caught:
        read_spec("nowhere.yaml")
    [error] = caught.value.diagnostics
    assert error.message == "nowhere.yaml: cannot read: No such file or directory"


# --- names -----------------------------------------------------------------------------------


def test_unknown_pod_name_with_a_close_match(workdir: Path, blog: Cluster) -> None:
    error = only_error(forbid("to: {pod: pod22}"), blog)
    assert error.message == 'no pod or workload named "pod22"; did you mean "pod2"?'
    assert where(error) == at(FLOW_LINE, "invariants[0].forbid.to.pod")


def test_unknown_pod_name_without_a_close_match(workdir: Path, blog: Cluster) -> None:
    error = only_error(forbid("to: {pod: database}"), blog)
    assert error.message == 'no pod or workload named "database"'
    assert where(error) == at(FLOW_LINE, "invariants[0].forbid.to.pod")


def test_pod_name_in_the_wrong_namespace(workdir: Path, blog: Cluster) -> None:
    error = only_error(forbid("to: {pod: ns-1/pod2}"), blog)
    assert error.message.startswith('no pod or workload named "pod2" in namespace "ns-1"')
    assert where(error) == at(FLOW_LINE, "invariants[0].forbid.to.pod")


def test_pod_name_conflicting_with_the_endpoint_namespace(workdir: Path, blog: Cluster) -> None:
    error = only_error(forbid("to: {namespace: ns-1, pod: ns-2/pod2}"), blog)
    assert error.message == 'pod "ns-2/pod2" is not in namespace "ns-1"'
    assert where(error) == at(FLOW_LINE, "invariants[0].forbid.to.pod")


TWIN_PODS = """\
apiVersion: v1
kind: Namespace
metadata: {name: a}
---
apiVersion: v1
kind: Namespace
metadata: {name: b}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: a, labels: {app: web}}
spec: {containers: [{name: c, image: nginx}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: b, labels: {app: web}}
spec: {containers: [{name: c, image: nginx}]}
"""

WEB_DEPLOYMENT_IN_A = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: a}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: nginx}]}
"""


def test_ambiguous_pod_name(workdir: Path) -> None:
    Path("twins.yaml").write_text(TWIN_PODS)
    cluster = load_manifests(["twins.yaml"]).cluster
    error = only_error(forbid("to: {pod: web}"), cluster)
    assert error.message == (
        'pod name "web" is ambiguous: it exists in namespaces a, b; write namespace/name'
    )
    assert where(error) == at(FLOW_LINE, "invariants[0].forbid.to.pod")
    # The qualified name resolves.
    destination = first_invariant(forbid("to: {pod: b/web}"), cluster).destination
    assert destination == EndpointPattern(namespace_name="b", pod_name="web")


def test_ambiguity_within_one_namespace_gives_advice_that_can_be_followed(workdir: Path) -> None:
    Path("twins.yaml").write_text(TWIN_PODS + "---\n" + WEB_DEPLOYMENT_IN_A)
    cluster = load_manifests(["twins.yaml"]).cluster
    with pytest.raises(InputError) as caught:
        load(forbid("to: {pod: a/web}"), cluster)
    [error] = caught.value.diagnostics
    assert "namespaces a, a" not in error.message
    assert "write namespace/name" not in error.message


def test_unknown_namespace_name_under_existing(workdir: Path, blog: Cluster) -> None:
    error = only_error(forbid("from: {namespace: ns-4}"), blog)
    assert error.message.startswith('no namespace named "ns-4" in the manifests; did you mean')
    assert error.message.endswith("(use `namespaces: any` to mean one that could be created)")
    assert where(error) == at(FLOW_LINE, "invariants[0].forbid.from.namespace")


def test_unknown_namespace_name_accepted_under_any(workdir: Path, blog: Cluster) -> None:
    invariant = first_invariant(forbid("from: {namespace: ns-4}", before="namespaces: any"), blog)
    assert invariant.namespaces is NamespaceScope.ANY
    assert invariant.source == EndpointPattern(namespace_name="ns-4")


def test_every_error_of_a_spec_is_reported(workdir: Path, blog: Cluster) -> None:
    text = forbid(
        """
        from: {pod: pod9}
        to: {ip: 10.0.0.0/40}
        ports: ["0"]
        """
    )
    errors = spec_errors(text, blog)
    assert [where(error) for error in errors] == [
        at(FLOW_LINE, "invariants[0].forbid.from.pod"),
        at(FLOW_LINE + 1, "invariants[0].forbid.to.ip"),
        at(FLOW_LINE + 2, "invariants[0].forbid.ports[0]"),
    ]


# --- ports -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("port", "message", "field"),
    [
        (
            '"80/tcp"',
            'unsupported protocol "tcp": must be one of TCP, UDP, SCTP; did you mean "TCP"?',
            "ports[0]",
        ),
        ('"0"', "invalid port 0: must be between 1 and 65535, inclusive", "ports[0]"),
        ("0", "invalid port 0: must be between 1 and 65535, inclusive", "ports[0]"),
        ('"70000"', "invalid port 70000: must be between 1 and 65535, inclusive", "ports[0]"),
        (
            '"90-80"',
            "empty port range 90-80: the end must be at least the start",
            "ports[0]",
        ),
        (
            '"Bad_Name"',
            'invalid port name "Bad_Name": must contain only lower case alphanumeric '
            "characters (a-z, 0-9) and '-'",
            "ports[0]",
        ),
        (
            '"80/TCP/UDP"',
            'invalid port "80/TCP/UDP": write 80, 80/TCP, 8000-9000/UDP, http or UDP',
            "ports[0]",
        ),
        (
            "{port: 90, endPort: 80}",
            "empty port range 90-80: the end must be at least the start",
            "ports[0]",
        ),
        (
            "{port: http, endPort: 90}",
            "may only be specified with a numeric `port`",
            "ports[0].endPort",
        ),
        (
            "{port: 53, protocol: udp}",
            'unsupported protocol "udp": must be one of TCP, UDP, SCTP; did you mean "UDP"?',
            "ports[0].protocol",
        ),
    ],
)
def test_bad_port(workdir: Path, blog: Cluster, port: str, message: str, field: str) -> None:
    error = only_error(forbid(f"ports: [{port}]"), blog)
    assert error.message == message
    assert where(error) == at(FLOW_LINE, f"invariants[0].forbid.{field}")


def test_bad_port_is_found_at_its_index(workdir: Path, blog: Cluster) -> None:
    error = only_error(forbid('ports: ["80/TCP", "53/UDP", "90-80"]'), blog)
    assert error.field == "invariants[0].forbid.ports[2]"


def test_empty_port_list(workdir: Path, blog: Cluster) -> None:
    error = only_error(forbid("ports: []"), blog)
    assert error.message == "empty port list: omit `ports` to mean every port"
    assert where(error) == at(FLOW_LINE, "invariants[0].forbid.ports")


def test_boolean_port_is_refused(workdir: Path, blog: Cluster) -> None:
    spec_errors(forbid("ports: [true]"), blog)


@pytest.mark.parametrize(
    ("port", "expected"),
    [
        ("80", PortPattern(protocol=Protocol.TCP, port_range=PortRange(start=80, end=80))),
        ('"80"', PortPattern(protocol=Protocol.TCP, port_range=PortRange(start=80, end=80))),
        ('"80/TCP"', PortPattern(protocol=Protocol.TCP, port_range=PortRange(start=80, end=80))),
        (
            '"8000-9000/UDP"',
            PortPattern(protocol=Protocol.UDP, port_range=PortRange(start=8000, end=9000)),
        ),
        ('"http"', PortPattern(protocol=None, named_port="http")),
        ('"http/TCP"', PortPattern(protocol=Protocol.TCP, named_port="http")),
        ('"UDP"', PortPattern(protocol=Protocol.UDP)),
        ('"SCTP"', PortPattern(protocol=Protocol.SCTP)),
        (
            "{port: 53, protocol: UDP}",
            PortPattern(protocol=Protocol.UDP, port_range=PortRange(start=53, end=53)),
        ),
        (
            "{port: 80, endPort: 90}",
            PortPattern(protocol=Protocol.TCP, port_range=PortRange(start=80, end=90)),
        ),
        ("{port: http}", PortPattern(protocol=None, named_port="http")),
        ("{protocol: UDP}", PortPattern(protocol=Protocol.UDP)),
    ],
)
def test_port_forms(workdir: Path, blog: Cluster, port: str, expected: PortPattern) -> None:
    assert first_invariant(forbid(f"ports: [{port}]"), blog).ports == (expected,)


def test_omitted_ports_mean_every_port(workdir: Path, blog: Cluster) -> None:
    assert first_invariant(forbid("from: {}"), blog).ports == ()


# --- selectors and endpoints -------------------------------------------------------------------


def test_shorthand_selector_is_match_labels(workdir: Path, blog: Cluster) -> None:
    invariant = first_invariant(forbid("from: {namespace: {env: dev}, pod: {app: pod1}}"), blog)
    assert invariant.source == EndpointPattern(
        namespace_selector=LabelSelector(match_labels={"env": "dev"}),
        pod_selector=LabelSelector(match_labels={"app": "pod1"}),
    )


def test_full_selector(workdir: Path, blog: Cluster) -> None:
    text = forbid(
        """
        from:
          namespace:
            matchLabels: {env: dev}
            matchExpressions:
              - {key: tier, operator: NotIn, values: [db, cache]}
              - {key: team, operator: Exists}
        """
    )
    assert first_invariant(text, blog).source == EndpointPattern(
        namespace_selector=LabelSelector(
            match_labels={"env": "dev"},
            match_expressions=(
                LabelRequirement(key="tier", operator=Operator.NOT_IN, values=("db", "cache")),
                LabelRequirement(key="team", operator=Operator.EXISTS),
            ),
        )
    )


def test_shorthand_and_full_selectors_agree(workdir: Path, blog: Cluster) -> None:
    short = first_invariant(forbid("to: {pod: {app: pod2}}"), blog)
    full = first_invariant(forbid("to: {pod: {matchLabels: {app: pod2}}}"), blog)
    assert short.destination == full.destination


def test_pod_by_namespace_and_name(workdir: Path, blog: Cluster) -> None:
    invariant = first_invariant(forbid("from: {pod: ns-3/pod3}\nto: {pod: pod2}"), blog)
    assert invariant.source == EndpointPattern(namespace_name="ns-3", pod_name="pod3")
    assert invariant.destination == EndpointPattern(namespace_name="ns-2", pod_name="pod2")


def test_ip_endpoint(workdir: Path, blog: Cluster) -> None:
    invariant = first_invariant(forbid("from: {ip: 203.0.113.0/24}"), blog)
    assert invariant.source.ip is not None
    assert str(invariant.source.ip) == "203.0.113.0/24"


def test_bad_cidr_in_ip(workdir: Path, blog: Cluster) -> None:
    error = only_error(forbid("to: {ip: 10.0.0.0/33}"), blog)
    assert error.message == (
        'invalid CIDR "10.0.0.0/33": must be a valid CIDR value, e.g. 10.9.8.0/24 or 2001:db8::/64'
    )
    assert where(error) == at(FLOW_LINE, "invariants[0].forbid.to.ip")


def test_bad_cidr_in_pod_cidrs(workdir: Path, blog: Cluster) -> None:
    error = only_error(
        """
        manifests: [blog]
        settings:
          podCIDRs:
            - 10.244.0.0/16
            - not-a-cidr
        invariants:
          - name: a
            forbid: {}
        """,
        blog,
    )
    assert error.message.startswith('invalid CIDR "not-a-cidr": must be a valid CIDR value')
    assert where(error) == at(5, "settings.podCIDRs[1]")


def test_invalid_label_key_in_a_shorthand_selector(workdir: Path, blog: Cluster) -> None:
    key = "a" * 64
    error = only_error(forbid(f"to: {{pod: {{{key}: web}}}}"), blog)
    assert (
        error.message == f'invalid label key "{key}": name part must be no more than 63 characters'
    )
    assert where(error) == at(FLOW_LINE, f"invariants[0].forbid.to.pod.{key}")


def test_invalid_label_value_in_match_labels(workdir: Path, blog: Cluster) -> None:
    error = only_error(forbid('to: {pod: {matchLabels: {app: "bad value!"}}}'), blog)
    assert error.message.startswith(
        'invalid label value "bad value!": must be empty or consist of alphanumeric characters'
    )
    assert where(error) == at(FLOW_LINE, "invariants[0].forbid.to.pod.matchLabels.app")


def test_invalid_label_key_in_match_expressions(workdir: Path, blog: Cluster) -> None:
    text = forbid("to: {namespace: {matchExpressions: [{key: '-env', operator: Exists}]}}")
    error = only_error(text, blog)
    assert error.message.startswith('invalid label key "-env": name part must consist of')
    assert where(error) == at(
        FLOW_LINE, "invariants[0].forbid.to.namespace.matchExpressions[0].key"
    )


def test_invalid_label_value_in_match_expressions(workdir: Path, blog: Cluster) -> None:
    text = forbid(
        """
        to:
          namespace:
            matchExpressions:
              - {key: env, operator: In, values: [dev, "-x"]}
        """
    )
    error = only_error(text, blog)
    assert error.message.startswith('invalid label value "-x": must be empty or consist of')
    assert where(error) == at(
        FLOW_LINE + 3, "invariants[0].forbid.to.namespace.matchExpressions[0].values[1]"
    )


def test_invalid_expression_key_is_reported_once(workdir: Path, blog: Cluster) -> None:
    text = forbid(
        "to: {namespace: {matchExpressions: [{key: '-env', operator: In, values: [a, b]}]}}"
    )
    error = only_error(text, blog)
    assert error.field == "invariants[0].forbid.to.namespace.matchExpressions[0].key"


def test_in_without_values(workdir: Path, blog: Cluster) -> None:
    text = forbid("from: {namespace: {matchExpressions: [{key: env, operator: In}]}}")
    error = only_error(text, blog)
    assert error.message == "must be specified when `operator` is 'In'"
    assert where(error) == at(
        FLOW_LINE, "invariants[0].forbid.from.namespace.matchExpressions[0].values"
    )


def test_exists_with_values(workdir: Path, blog: Cluster) -> None:
    text = forbid(
        """
        from:
          pod:
            matchExpressions:
              - key: app
                operator: Exists
                values: [web]
        """
    )
    error = only_error(text, blog)
    assert error.message == "may not be specified when `operator` is 'Exists'"
    assert where(error) == at(
        FLOW_LINE + 5, "invariants[0].forbid.from.pod.matchExpressions[0].values"
    )


def test_typo_in_a_full_selector_gives_one_error(workdir: Path, blog: Cluster) -> None:
    error = only_error(forbid("from: {namespace: {matchLabel: {env: dev}}}"), blog)
    assert error.message == 'unknown field "matchLabel"'


def test_typo_in_a_port_object_gives_one_error(workdir: Path, blog: Cluster) -> None:
    error = only_error(forbid("ports: [{port: 53, protcol: UDP}]"), blog)
    assert error.message == 'unknown field "protcol"'


def test_malformed_full_selector_is_refused(workdir: Path, blog: Cluster) -> None:
    spec_errors(forbid("from: {namespace: {matchLabels: dev}}"), blog)


def test_unknown_top_level_key_named_like_a_type(workdir: Path, blog: Cluster) -> None:
    error = only_error("manifests: [blog]\nnone: 1\ninvariants:\n  - {name: a, forbid: {}}\n", blog)
    assert error.message == 'unknown field "none" (a spec has manifests, settings and invariants)'


def test_unknown_endpoint_key_named_like_a_type(workdir: Path, blog: Cluster) -> None:
    error = only_error(forbid("from: {int: 5}"), blog)
    assert error.message == 'unknown field "int" (an endpoint has namespace, pod, ip and service)'
    assert error.field == "invariants[0].forbid.from"


def test_label_key_with_dots_is_quoted_in_the_field_path(workdir: Path, blog: Cluster) -> None:
    error = only_error(forbid('to: {pod: {app.kubernetes.io/name: "bad value!"}}'), blog)
    assert error.field == 'invariants[0].forbid.to.pod["app.kubernetes.io/name"]'


# --- defaults, settings, locations, manifest paths ----------------------------------------------


@pytest.mark.parametrize(
    ("kind", "pods"),
    [
        (InvariantKind.FORBID, PodScope.ANY),
        (InvariantKind.REQUIRE, PodScope.EXISTING),
        (InvariantKind.REACHABLE, PodScope.EXISTING),
    ],
)
def test_default_pods_per_kind(
    workdir: Path, blog: Cluster, kind: InvariantKind, pods: PodScope
) -> None:
    text = f"manifests: [blog]\ninvariants:\n  - name: a\n    {kind.value}: {{to: {{pod: pod2}}}}\n"
    invariant = first_invariant(text, blog)
    assert invariant.kind is kind
    assert invariant.pods is pods
    assert invariant.namespaces is NamespaceScope.EXISTING


@pytest.mark.parametrize(
    ("kind", "pods"),
    [("forbid", PodScope.EXISTING), ("require", PodScope.ANY), ("reachable", PodScope.ANY)],
)
def test_explicit_pods_overrides_the_default(
    workdir: Path, blog: Cluster, kind: str, pods: PodScope
) -> None:
    text = (
        "manifests: [blog]\ninvariants:\n  - name: a\n"
        f"    pods: {pods.value}\n    {kind}: {{to: {{pod: pod2}}}}\n"
    )
    assert first_invariant(text, blog).pods is pods


def test_settings_parsed(workdir: Path, blog: Cluster) -> None:
    loaded = load(
        """
        manifests: [blog]
        settings:
          ipBlockMatchesPods: false
          podCIDRs: [10.244.0.0/16, "fd00::/64"]
        invariants:
          - name: a
            description: free text
            forbid: {}
        """,
        blog,
    )
    settings = loaded.spec.settings
    assert settings.ip_block_matches_pods is False
    assert [str(cidr) for cidr in settings.pod_cidrs] == ["10.244.0.0/16", "fd00::/64"]
    assert loaded.spec.invariants[0].description == "free text"


def test_settings_default(workdir: Path, blog: Cluster) -> None:
    loaded = load(forbid("from: {}"), blog)
    assert loaded.spec.settings == Settings(ip_block_matches_pods=True, pod_cidrs=())


def test_locations_are_the_invariant_lines(workdir: Path, blog: Cluster) -> None:
    loaded = load(
        """
        manifests: [blog]
        invariants:
          - name: first
            forbid: {}

          - name: second
            reachable: {to: {pod: pod2}}
        """,
        blog,
    )
    assert loaded.locations == {
        "first": SourceSpan(file=SPEC, line=3),
        "second": SourceSpan(file=SPEC, line=6),
    }
    assert loaded.spec.file == SPEC
    assert [i.name for i in loaded.spec.invariants] == ["first", "second"]


def test_manifests_are_relative_to_the_spec_file(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec_path = workdir / "specs" / "team" / "spec.yaml"
    write_spec(
        """
        manifests: [../../blog]
        invariants:
          - name: pod3-reaches-pod2
            reachable: {from: {pod: ns-3/pod3}, to: {pod: ns-2/pod2}, ports: [80]}
        """,
        str(spec_path),
    )
    elsewhere = workdir / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    raw = read_spec(str(spec_path))
    assert raw.manifest_paths == (str(workdir / "blog"),)
    loaded = resolve_spec(raw, load_manifests(raw.manifest_paths).cluster)
    assert loaded.spec.manifests == (str(workdir / "blog"),)
    assert loaded.spec.invariants[0].destination == EndpointPattern(
        namespace_name="ns-2", pod_name="pod2"
    )

    monkeypatch.chdir(workdir)
    assert read_spec("specs/team/spec.yaml").manifest_paths == ("blog",)


def test_kind_picks_one_of_a_pod_and_a_workload_of_the_same_name(workdir: Path) -> None:
    Path("twins.yaml").write_text(TWIN_PODS + "---\n" + WEB_DEPLOYMENT_IN_A)
    cluster = load_manifests(["twins.yaml"]).cluster
    with pytest.raises(InputError) as caught:
        load(forbid("to: {pod: a/web}"), cluster)
    [error] = caught.value.diagnostics
    assert "write a/Deployment/web or a/Pod/web" in error.message
    destination = first_invariant(forbid("to: {pod: a/deployment/web}"), cluster).destination
    assert destination == EndpointPattern(namespace_name="a", pod_name="web", pod_kind="Deployment")
