"""What `load_manifests` builds: objects, normal forms, positions, warnings and refusals."""

import io
import ipaddress
import time
from pathlib import Path

import pytest

from netverify.loading import collect_files, load_manifests
from netverify.model import (
    NAMESPACE_NAME_LABEL,
    ContainerPort,
    Direction,
    InputError,
    LabelSelector,
    Namespace,
    ObjectRef,
    Pod,
    PolicyPeer,
    PolicyPort,
    PortRange,
    Protocol,
    RuleRef,
    Severity,
    SourceSpan,
    UnmodelledObject,
)
from tests.loading.helpers import error, load, load_errors, policy

FIXTURES = Path(__file__).parent / "fixtures"


def test_helm_template_output(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES)
    loaded = load_manifests(["helm-template.yaml"])
    cluster = loaded.cluster
    assert cluster.namespaces == (
        Namespace(name="shop", labels={"team": "payments", NAMESPACE_NAME_LABEL: "shop"}),
    )
    assert cluster.pods == (
        Pod(
            namespace="shop",
            name="web",
            kind="Deployment",
            labels={"app": "web", "tier": "frontend"},
            ports=(
                ContainerPort(name="http", port=8080),
                ContainerPort(port=9090, protocol=Protocol.UDP),
            ),
            replicas=1,  # not written: the Deployment default
        ),
    )
    [np] = cluster.policies
    assert np.pod_selector == LabelSelector(match_labels={"app": "web"})
    assert np.policy_types == {Direction.INGRESS}
    assert np.ingress[0].ports == (PolicyPort(named_port="http"),)
    assert np.ingress[0].peers == (
        PolicyPeer(
            namespace_selector=LabelSelector(match_labels={NAMESPACE_NAME_LABEL: "ingress-nginx"})
        ),
    )
    assert np.ingress[1].peers == (PolicyPeer(pod_selector=LabelSelector()),)
    policy_ref = ObjectRef(kind="NetworkPolicy", namespace="shop", name="web-ingress")
    assert loaded.sources.objects == {
        ObjectRef(kind="Namespace", namespace=None, name="shop"): SourceSpan(
            file="helm-template.yaml", line=3
        ),
        ObjectRef(kind="Service", namespace="shop", name="web"): SourceSpan(
            file="helm-template.yaml", line=11
        ),
        ObjectRef(kind="Deployment", namespace="shop", name="web"): SourceSpan(
            file="helm-template.yaml", line=21
        ),
        policy_ref: SourceSpan(file="helm-template.yaml", line=48),
    }
    assert loaded.sources.rules == {
        RuleRef(policy=policy_ref, direction=Direction.INGRESS, index=0): SourceSpan(
            file="helm-template.yaml", line=61
        ),
        RuleRef(policy=policy_ref, direction=Direction.INGRESS, index=1): SourceSpan(
            file="helm-template.yaml", line=67
        ),
    }
    assert loaded.warnings == ()


def test_directory_recursion_order_and_file_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES)
    assert collect_files(["tree"]) == [
        "tree/a/b.json",
        "tree/a/z.yml",
        "tree/b-dir/x.yaml",
        "tree/b.yaml",
    ]
    assert collect_files(["tree/"])[0] == "tree/a/b.json"
    loaded = load_manifests(["tree"])
    assert [pod.name for pod in loaded.cluster.pods] == ["b", "x", "z"]
    spans = {ref.name: span for ref, span in loaded.sources.objects.items()}
    assert spans == {
        "b": SourceSpan(file="tree/a/b.json", line=1),
        "z": SourceSpan(file="tree/a/z.yml", line=1),
        "x": SourceSpan(file="tree/b-dir/x.yaml", line=1),
        "shop": SourceSpan(file="tree/b.yaml", line=1),
    }


def test_files_are_loaded_in_the_order_given(workdir: Path) -> None:
    (workdir / "b.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: web}\n")
    (workdir / "a.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web, labels: {app: web}}\n"
    )
    with pytest.raises(InputError) as caught:
        load_manifests(["b.yaml", "a.yaml"])
    assert caught.value.diagnostics == [
        error(
            "defined more than once: at b.yaml:1 and at a.yaml:1",
            1,
            None,
            obj="Pod default/web",
            file="a.yaml",
        )
    ]


def test_duplicates_in_one_file_and_list_items(workdir: Path) -> None:
    text = """\
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: np, namespace: prod}
        spec: {podSelector: {}}
        ---
        apiVersion: v1
        kind: List
        items:
        - apiVersion: networking.k8s.io/v1
          kind: NetworkPolicy
          metadata: {name: np, namespace: prod}
          spec: {podSelector: {}, policyTypes: [Egress]}
        """
    assert load_errors(workdir, text) == [
        error(
            "defined more than once: at np.yaml:1 and at np.yaml:9",
            9,
            None,
        )
    ]


_TWICE_THE_SAME = """\
    apiVersion: v1
    kind: Service
    metadata: {name: web, namespace: prod}
    spec: {selector: {app: web}, ports: [{port: 80}]}
    ---
    apiVersion: v1
    kind: Service
    metadata:
      name: web
      namespace: prod
    spec:
      ports:
        - port: 80
      selector:
        app: web
    """


def test_an_object_defined_twice_the_same_is_a_warning_and_read_once(workdir: Path) -> None:
    """A copy-pasted manifest (the same object twice, as `kubectl apply` takes it): one
    object, and a warning naming both places; under --strict an error."""
    loaded = load(workdir, _TWICE_THE_SAME, name="svc.yaml")
    assert [service.name for service in loaded.cluster.services] == ["web"]
    message = "defined twice, alike in all that netverify reads: at svc.yaml:1 and at svc.yaml:6"
    expected = error(message, 6, None, obj="Service prod/web", file="svc.yaml")
    assert loaded.warnings == (expected.model_copy(update={"severity": Severity.WARNING}),)
    assert load_errors(workdir, _TWICE_THE_SAME, name="svc.yaml", strict=True) == [expected]


def test_same_name_in_different_kinds_or_namespaces_is_no_duplicate(workdir: Path) -> None:
    text = """\
        apiVersion: v1
        kind: Pod
        metadata: {name: web}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec: {template: {}}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: web, namespace: other}
        """
    pods = load(workdir, text).cluster.pods
    assert [(p.namespace, p.name, p.kind) for p in pods] == [
        ("default", "web", "Deployment"),
        ("default", "web", "Pod"),
        ("other", "web", "Pod"),
    ]


def test_list_kinds_and_item_positions(workdir: Path) -> None:
    text = """\
        apiVersion: v1
        kind: List
        items:
        - apiVersion: v1
          kind: Namespace
          metadata: {name: prod}
        - apiVersion: networking.k8s.io/v1
          kind: NetworkPolicyList
          items:
          - apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: np, namespace: prod}
            spec:
              podSelector: {}
              egress:
              - {}
              - to: []
        """
    loaded = load(workdir, text)
    ref = ObjectRef(kind="NetworkPolicy", namespace="prod", name="np")
    assert loaded.sources.objects[ref] == SourceSpan(file="np.yaml", line=10)
    assert loaded.sources.objects[ObjectRef(kind="Namespace", namespace=None, name="prod")] == (
        SourceSpan(file="np.yaml", line=4)
    )
    rules = loaded.sources.rules
    assert rules[RuleRef(policy=ref, direction=Direction.EGRESS, index=0)].line == 16
    assert rules[RuleRef(policy=ref, direction=Direction.EGRESS, index=1)].line == 17


def test_errors_inside_list_items_have_item_positions(workdir: Path) -> None:
    text = """\
        kind: PodList
        apiVersion: v1
        items:
        - apiVersion: v1
          kind: Pod
          metadata: {name: a}
        - apiVersion: v1
          kind: Pod
          metadata:
            name: b
            labels: {"bad key": x}
        """
    assert load_errors(workdir, text) == [
        error(
            'invalid label key "bad key": name part must consist of alphanumeric characters, '
            "'-', '_' or '.', and must start and end with an alphanumeric character "
            "(e.g. 'MyName', 'my.name' or '123-abc')",
            11,
            'metadata.labels["bad key"]',
            obj="Pod default/b",
        )
    ]


@pytest.mark.parametrize(
    ("api_version", "kind", "spec"),
    [
        ("apps/v1", "Deployment", "spec:\n  template:\n{template}"),
        ("apps/v1", "StatefulSet", "spec:\n  template:\n{template}"),
        ("apps/v1", "DaemonSet", "spec:\n  template:\n{template}"),
        ("apps/v1", "ReplicaSet", "spec:\n  template:\n{template}"),
        ("v1", "ReplicationController", "spec:\n  template:\n{template}"),
        ("batch/v1", "Job", "spec:\n  template:\n{template}"),
        (
            "batch/v1",
            "CronJob",
            "spec:\n  schedule: '* * * * *'\n  jobTemplate:\n    spec:\n      template:\n"
            "{template}",
        ),
    ],
)
def test_workloads_become_one_pod_of_their_template(
    workdir: Path, api_version: str, kind: str, spec: str
) -> None:
    depth = "        " if kind == "CronJob" else "    "
    template = (
        "metadata:\n  labels: {app: web}\n"
        "spec:\n  hostNetwork: true\n  containers:\n"
        "  - name: a\n    ports: [{containerPort: 80, name: http}]\n"
        "  - name: b\n    ports: [{containerPort: 53, protocol: UDP}]\n"
    )
    indented = "".join(depth + line + "\n" for line in template.splitlines())
    text = (
        f"apiVersion: {api_version}\nkind: {kind}\n"
        "metadata:\n  name: web\n  namespace: prod\n  labels: {owner: me}\n"
        + spec.format(template=indented)
    )
    (workdir / "w.yaml").write_text(text)
    loaded = load_manifests(["w.yaml"])
    assert loaded.cluster.pods == (
        Pod(
            namespace="prod",
            name="web",
            kind=kind,
            labels={"app": "web"},
            ports=(
                ContainerPort(name="http", port=80),
                ContainerPort(port=53, protocol=Protocol.UDP),
            ),
            host_network=True,
            # spec.replicas not written: 1 where the kind has it
            replicas=None if kind in {"DaemonSet", "Job", "CronJob"} else 1,
        ),
    )
    ref = ObjectRef(kind=kind, namespace="prod", name="web")
    assert loaded.sources.objects[ref] == SourceSpan(file="w.yaml", line=1)


def test_workload_without_template_is_an_error(workdir: Path) -> None:
    text = "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  jobTemplate: {}\n"
    assert load_errors(workdir, text) == [
        error('missing required field "spec"', 5, "spec.jobTemplate.spec", obj="CronJob default/c")
    ]


def test_pod_with_ips_host_network_and_ports(workdir: Path) -> None:
    text = """\
        apiVersion: v1
        kind: Pod
        metadata:
          name: web-0
          namespace: prod
          labels: {app: web}
        spec:
          hostNetwork: false
          containers:
          - name: web
            ports:
            - {name: http, containerPort: 8080, protocol: TCP}
            - containerPort: 9000
              protocol: SCTP
          - name: sidecar
        status:
          podIP: 10.0.0.7
          podIPs:
          - ip: 10.0.0.7
          - ip: fd00::7
        """
    [pod] = load(workdir, text).cluster.pods
    assert pod == Pod(
        namespace="prod",
        name="web-0",
        labels={"app": "web"},
        ports=(
            ContainerPort(name="http", port=8080),
            ContainerPort(port=9000, protocol=Protocol.SCTP),
        ),
        ips=(ipaddress.ip_address("10.0.0.7"), ipaddress.ip_address("fd00::7")),
    )


def test_host_network_pod(workdir: Path) -> None:
    text = "apiVersion: v1\nkind: Pod\nmetadata: {name: node-agent}\nspec: {hostNetwork: true}\n"
    [pod] = load(workdir, text).cluster.pods
    assert pod.host_network is True


def test_invalid_pod_ip(workdir: Path) -> None:
    text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nstatus:\n  podIP: 10.0.0.300\n"
    assert load_errors(workdir, text) == [
        error('invalid IP address "10.0.0.300"', 5, "status.podIP", obj="Pod default/p")
    ]


def test_namespaces_default_implicit_and_labelled(workdir: Path) -> None:
    text = """\
        apiVersion: v1
        kind: Namespace
        metadata:
          name: prod
          labels:
            kubernetes.io/metadata.name: wrong
            env: prod
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: a}
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: np, namespace: staging}
        spec: {podSelector: {}}
        ---
        apiVersion: v1
        kind: Namespace
        metadata: {name: empty}
        """
    cluster = load(workdir, text).cluster
    assert cluster.namespaces == (
        Namespace(name="default", labels={NAMESPACE_NAME_LABEL: "default"}, defined=False),
        Namespace(name="empty", labels={NAMESPACE_NAME_LABEL: "empty"}),
        Namespace(name="prod", labels={NAMESPACE_NAME_LABEL: "prod", "env": "prod"}),
        Namespace(name="staging", labels={NAMESPACE_NAME_LABEL: "staging"}, defined=False),
    )
    assert cluster.pods[0].namespace == "default"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("podSelector: {}", {Direction.INGRESS}),
        ("podSelector: {}\negress: [{}]", {Direction.INGRESS, Direction.EGRESS}),
        ("podSelector: {}\negress: []", {Direction.INGRESS}),
        ("podSelector: {}\negress: [{}]\npolicyTypes: []", {Direction.INGRESS, Direction.EGRESS}),
        ("podSelector: {}\npolicyTypes: [Egress]", {Direction.EGRESS}),
        ("podSelector: {}\negress: [{}]\npolicyTypes: [Ingress]", {Direction.INGRESS}),
        ("podSelector: {}\ningress: []\npolicyTypes: [Egress]", {Direction.EGRESS}),
    ],
)
def test_policy_types_defaulting(workdir: Path, spec: str, expected: set[Direction]) -> None:
    [np] = load(workdir, policy(spec)).cluster.policies
    assert np.policy_types == expected


def test_egress_only_policy_without_rules_isolates(workdir: Path) -> None:
    [np] = load(workdir, policy("podSelector: {}\npolicyTypes: [Egress]")).cluster.policies
    assert np.policy_types == {Direction.EGRESS}
    assert np.egress == () and np.ingress == ()


def test_absent_null_and_empty_selectors_stay_distinct(workdir: Path) -> None:
    text = policy(
        """
        podSelector: {matchLabels: {app: db}}
        ingress:
        - from:
          - podSelector: {}
          - namespaceSelector: {}
          - podSelector: {matchLabels: {app: web}}
            namespaceSelector: null
          - namespaceSelector: {matchLabels: {env: prod}}
            podSelector: {matchExpressions: [{key: app, operator: In, values: [a, b]}]}
        """
    )
    [np] = load(workdir, text).cluster.policies
    everything = LabelSelector()
    assert np.ingress[0].peers[0] == PolicyPeer(pod_selector=everything)
    assert np.ingress[0].peers[1] == PolicyPeer(namespace_selector=everything)
    assert np.ingress[0].peers[2] == PolicyPeer(
        pod_selector=LabelSelector(match_labels={"app": "web"})
    )
    fourth = np.ingress[0].peers[3]
    assert fourth.namespace_selector == LabelSelector(match_labels={"env": "prod"})
    assert fourth.pod_selector is not None
    assert fourth.pod_selector.match_expressions[0].values == ("a", "b")


@pytest.mark.parametrize("empty", ["", "from: null", "from: []", "ports: null", "ports: []"])
def test_absent_or_empty_peers_and_ports_mean_everything(workdir: Path, empty: str) -> None:
    [np] = load(workdir, policy(f"podSelector: {{}}\ningress:\n- {{{empty}}}\n")).cluster.policies
    assert np.ingress[0].peers == () and np.ingress[0].ports == ()


def test_null_rule_is_an_empty_rule_with_a_warning(workdir: Path) -> None:
    loaded = load(workdir, policy("podSelector: {}\ningress:\n- null\n"))
    assert loaded.cluster.policies[0].ingress[0].peers == ()
    assert loaded.warnings == (
        error(
            "an empty (null) rule allows every peer on every port",
            9,
            "spec.ingress[0]",
            severity=Severity.WARNING,
        ),
    )


def test_ports_normal_form(workdir: Path) -> None:
    text = policy(
        """
        podSelector: {}
        ingress:
        - ports:
          - port: 80
          - port: 8000
            endPort: 8080
          - protocol: UDP
          - port: dns
            protocol: UDP
          - {}
        """
    )
    [np] = load(workdir, text).cluster.policies
    assert np.ingress[0].ports == (
        PolicyPort(port_range=PortRange(start=80, end=80)),
        PolicyPort(port_range=PortRange(start=8000, end=8080)),
        PolicyPort(protocol=Protocol.UDP),
        PolicyPort(protocol=Protocol.UDP, named_port="dns"),
        PolicyPort(),
    )


@pytest.mark.parametrize(
    ("api_version", "kind", "namespace"),
    [
        ("policy.networking.k8s.io/v1alpha3", "ClusterNetworkPolicy", None),
        ("crd.projectcalico.org/v1", "NetworkPolicy", "prod"),
        ("projectcalico.org/v3", "GlobalNetworkPolicy", None),
        ("projectcalico.org/v3", "StagedNetworkPolicy", "prod"),
        ("cilium.io/v2", "CiliumNetworkPolicy", "prod"),
        ("cilium.io/v2", "CiliumClusterwideNetworkPolicy", None),
        ("crd.antrea.io/v1beta1", "NetworkPolicy", "prod"),
        ("crd.antrea.io/v1beta1", "ClusterNetworkPolicy", None),
        ("security.istio.io/v1", "AuthorizationPolicy", "prod"),
        ("k8s.cni.cncf.io/v1beta1", "MultiNetworkPolicy", "prod"),
        ("networking.k8s.io/v1beta1", "NetworkPolicy", "prod"),
    ],
)
def test_unmodelled_policy_kinds_warn(
    workdir: Path, api_version: str, kind: str, namespace: str | None
) -> None:
    text = f"apiVersion: {api_version}\nkind: {kind}\nmetadata:\n  name: x\n  namespace: prod\n"
    loaded = load(workdir, text)
    ref = ObjectRef(kind=kind, namespace=namespace, name="x")
    message = f"not modelled ({api_version}): verdicts it may decide are unknown"
    assert loaded.warnings == (error(message, 1, None, obj=str(ref), severity=Severity.WARNING),)
    (unmodelled,) = loaded.cluster.unmodelled
    assert unmodelled == UnmodelledObject(
        api_version=api_version, kind=kind, namespace=namespace, name="x", digest=unmodelled.digest
    )
    assert len(unmodelled.digest) == 16
    assert loaded.sources.objects[ref] == SourceSpan(file="np.yaml", line=1)
    assert loaded.cluster.policies == ()


def test_unmodelled_policy_kinds_are_errors_under_strict(workdir: Path) -> None:
    text = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: x}\n"
    assert load_errors(workdir, text, strict=True) == [
        error(
            "not modelled (cilium.io/v2): verdicts it may decide are unknown",
            1,
            None,
            obj="CiliumNetworkPolicy default/x",
        )
    ]


def test_other_kinds_are_skipped_quietly(workdir: Path) -> None:
    text = """\
        apiVersion: v1
        kind: ServiceAccount
        metadata: {name: web}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: cfg}
        data: {a: b}
        ---
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {name: things.example.com}
        ---
        apiVersion: example.com/v1
        kind: Deployment
        metadata: {name: not-a-real-deployment}
        ---
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        """
    loaded = load(workdir, text)
    assert loaded.cluster.pods == () and loaded.cluster.namespaces == ()
    assert loaded.warnings == () and loaded.sources.objects == {}


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        (
            "- a\n- b\n",
            1,
            None,
            "expected a Kubernetes object (a mapping with apiVersion and kind), got a list",
        ),
        (
            "just text\n",
            1,
            None,
            "expected a Kubernetes object (a mapping with apiVersion and kind), "
            'got a string ("just text")',
        ),
        ("apiVersion: v1\nmetadata: {name: a}\n", 1, "kind", 'missing required field "kind"'),
        (
            "kind: Pod\nmetadata: {name: a}\n",
            1,
            "apiVersion",
            'missing required field "apiVersion"',
        ),
        ("kind: [Pod]\napiVersion: v1\n", 1, "kind", "expected a string, got a list"),
    ],
)
def test_documents_that_are_not_objects(
    workdir: Path, text: str, line: int, field: str | None, message: str
) -> None:
    assert load_errors(workdir, text) == [error(message, line, field, obj=None)]


def test_stdin(workdir: Path) -> None:
    stdin = io.StringIO("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {hostNetwork: 1}\n")
    with pytest.raises(InputError) as caught:
        load_manifests(["-"], stdin=stdin)
    assert caught.value.diagnostics == [
        error(
            "expected a boolean, got an integer (1)",
            4,
            "spec.hostNetwork",
            obj="Pod default/a",
            file="<stdin>",
        )
    ]
    ok = load_manifests(
        ["-"], stdin=io.StringIO("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n")
    )
    assert ok.sources.objects == {
        ObjectRef(kind="Namespace", namespace=None, name="a"): SourceSpan(file="<stdin>", line=1)
    }


def test_syntax_error_line(workdir: Path) -> None:
    text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n   labels: {}\n"
    assert load_errors(workdir, text) == [
        error("invalid YAML: mapping values are not allowed here", 5, None, obj=None)
    ]


def test_syntax_error_in_a_later_document(workdir: Path) -> None:
    text = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\nkey: [a, b\n"
    [diagnostic] = load_errors(workdir, text)
    assert diagnostic.span == SourceSpan(file="np.yaml", line=6)
    assert diagnostic.message.startswith("invalid YAML: expected ',' or ']', but got")


def test_non_utf8_file(workdir: Path) -> None:
    (workdir / "latin1.yaml").write_bytes("kind: Pod\n# caf\u00e9\n".encode("latin-1"))
    with pytest.raises(InputError) as caught:
        load_manifests(["latin1.yaml"])
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.span == SourceSpan(file="latin1.yaml", line=2)
    assert str(diagnostic) == (
        "latin1.yaml:2: error: not UTF-8 text (byte 0xe9; re-encode the file as UTF-8)"
    )


def test_empty_file_and_empty_documents(workdir: Path) -> None:
    """Empty documents are skipped; input with no object at all is refused by default (there
    would be nothing to prove anything about), and accepted when asked (a diff's empty side)."""
    (workdir / "empty.yaml").write_text("")
    (workdir / "comments.yaml").write_text("# nothing\n---\n---\n...\n")
    with pytest.raises(InputError):
        load_manifests(["empty.yaml", "comments.yaml"])
    loaded = load_manifests(["empty.yaml", "comments.yaml"], require_objects=False)
    assert loaded.cluster.namespaces == () and loaded.warnings == ()


def test_alias_bomb_is_refused_quickly(workdir: Path) -> None:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    started = time.monotonic()
    diagnostics = load_errors(workdir, "\n".join(lines) + "\n")
    assert time.monotonic() - started < 2
    assert [d.message for d in diagnostics] == [
        "document expands to more than 1000000 nodes (YAML alias bomb?)"
    ]


@pytest.mark.parametrize("text", ["[" * 300 + "]" * 300, "a: &a [*a]\n"])
def test_deep_nesting_is_refused(workdir: Path, text: str) -> None:
    assert [d.message for d in load_errors(workdir, text)] == [
        "document nests deeper than 200 levels"
    ]


def test_results_are_sorted(workdir: Path) -> None:
    text = "".join(
        f"---\napiVersion: {v}\nkind: {k}\nmetadata: {{name: {n}, namespace: {ns}}}\n{s}"
        for v, k, n, ns, s in [
            ("v1", "Pod", "b", "z", ""),
            ("networking.k8s.io/v1", "NetworkPolicy", "b", "a", "spec: {podSelector: {}}\n"),
            ("v1", "Pod", "a", "z", ""),
            ("v1", "Pod", "c", "a", ""),
            ("networking.k8s.io/v1", "NetworkPolicy", "a", "a", "spec: {podSelector: {}}\n"),
            ("v1", "Namespace", "m", "ignored", ""),
        ]
    )
    cluster = load(workdir, text).cluster
    assert [(p.namespace, p.name) for p in cluster.pods] == [("a", "c"), ("z", "a"), ("z", "b")]
    assert [(p.namespace, p.name) for p in cluster.policies] == [("a", "a"), ("a", "b")]
    assert [ns.name for ns in cluster.namespaces] == ["a", "m", "z"]


def test_missing_paths_are_all_reported(workdir: Path) -> None:
    with pytest.raises(InputError) as caught:
        load_manifests(["nope.yaml", "gone/"])
    assert [d.message for d in caught.value.diagnostics] == [
        "nope.yaml: no such file or directory",
        "gone/: no such file or directory",
    ]


def test_a_netverify_spec_beside_the_manifests_is_not_a_manifest(workdir: Path) -> None:
    (workdir / "ns.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n")
    (workdir / "spec.yaml").write_text("manifests: [.]\ninvariants:\n  - name: x\n    forbid: {}\n")
    loaded = load_manifests(["."])
    assert [ns.name for ns in loaded.cluster.namespaces] == ["a"]
    assert loaded.warnings == ()


_BETA_ISOLATION = """\
    apiVersion: v1
    kind: Namespace
    metadata:
      name: sock-shop
      annotations:
        net.beta.kubernetes.io/network-policy: |
          {"ingress": {"isolation": "DefaultDeny"}}
    """


def test_the_isolation_annotation_of_kubernetes_1_6_is_a_warning(workdir: Path) -> None:
    """sock-shop's manifests-policy still isolates its namespace with the annotation that
    Kubernetes dropped in 1.7: the namespace is not isolated, and the warning says so."""
    loaded = load(workdir, _BETA_ISOLATION, name="ns.yaml")
    (warning,) = loaded.warnings
    assert warning.span is not None and warning.span.line == 6
    assert warning.message.startswith("has had no effect since Kubernetes 1.7")
    assert loaded.cluster.namespaces[0].name == "sock-shop"


_BETA_POLICY = """\
    apiVersion: extensions/v1beta1
    kind: NetworkPolicy
    metadata: {name: np, namespace: prod}
    spec: {podSelector: {}}
    """


def test_an_extensions_v1beta1_network_policy_says_to_change_its_api_version(
    workdir: Path,
) -> None:
    (warning,) = load(workdir, _BETA_POLICY).warnings
    assert warning.message.startswith("not modelled (extensions/v1beta1)")
    assert "networking.k8s.io/v1 has the same fields: change the apiVersion" in warning.message


_TWICE_DIFFERENT_ANNOTATIONS = """\
    apiVersion: v1
    kind: Namespace
    metadata: {name: sock-shop}
    ---
    apiVersion: v1
    kind: Namespace
    metadata: {name: sock-shop, annotations: {team: shop}}
    """


def test_an_object_defined_twice_alike_but_for_annotations_is_not_called_the_same(
    workdir: Path,
) -> None:
    """sock-shop defines its namespace twice, once annotated: the warning said "the same
    both times"; the two are alike only in what netverify reads."""
    (warning,) = load(workdir, _TWICE_DIFFERENT_ANNOTATIONS, name="ns.yaml").warnings
    assert warning.message == (
        "defined twice, alike in all that netverify reads: at ns.yaml:1 and at ns.yaml:5"
    )
