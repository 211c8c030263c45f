"""Kubernetes manifests (files, directories, stdin) to a `LoadedCluster`.

Every file is read and every object checked before anything is returned: either the whole
input is loaded, or one `InputError` carries every error of every file. Objects that carry
network policy netverify does not model are reported (a warning, or an error under `strict`)
so that a verdict never silently ignores them; all other kinds are skipped.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TextIO

from netverify.loading.adminpolicy import ADMIN_KINDS, AdminKind, read_admin_policy
from netverify.loading.fields import Diagnostics, ObjectFields, describe
from netverify.loading.networkpolicy import RULES_KEY, read_network_policy
from netverify.loading.nodes import read_node
from netverify.loading.pods import WORKLOAD_GROUPS, read_pod, read_workload
from netverify.loading.selectors import read_labels
from netverify.loading.validation import dns1123_label_error
from netverify.loading.yamlsource import (
    MANIFEST_SUFFIXES,
    Path,
    YamlDocument,
    collect_files,
    display_name,
    parse_documents,
    read_text,
)
from netverify.model import (
    NAMESPACE_NAME_LABEL,
    AdminPolicy,
    Cluster,
    Diagnostic,
    Direction,
    InputError,
    LoadedCluster,
    Namespace,
    NetworkPolicy,
    Node,
    ObjectRef,
    Pod,
    RuleRef,
    Severity,
    SourceMap,
    SourceSpan,
    UnmodelledObject,
)

DEFAULT_NAMESPACE = "default"
NETWORK_POLICY_API_VERSION = "networking.k8s.io/v1"

UNMODELLED_KINDS: frozenset[tuple[str, str]] = frozenset(
    {
        ("security.istio.io", "AuthorizationPolicy"),
        ("security.istio.io", "PeerAuthentication"),
        ("policy.linkerd.io", "AuthorizationPolicy"),
        ("policy.linkerd.io", "ServerAuthorization"),
        ("k8s.ovn.org", "EgressFirewall"),
        ("network.openshift.io", "EgressNetworkPolicy"),
    }
)
"""Policy kinds whose names do not end in `NetworkPolicy`, by (API group, kind)."""

UNMODELLED_GROUPS = frozenset({"policy.networking.k8s.io"})
"""Groups all of whose kinds are network policy (AdminNetworkPolicy and its successors)."""

CLUSTER_SCOPED_PREFIXES = (
    "Global",
    "StagedGlobal",
    "Cluster",
    "CiliumClusterwide",
    "AdminNetwork",
    "BaselineAdminNetwork",
)
"""Unmodelled kinds that live outside namespaces (Calico, Antrea, Cilium, ANP, ...)."""


def api_group(api_version: str) -> str:
    """The group of an `apiVersion` (`""` for the core group's `v1`)."""
    group, slash, _ = api_version.rpartition("/")
    return group if slash else ""


def is_unmodelled(api_version: str, kind: str) -> bool:
    """Whether an object is network policy that netverify does not model.

    That is every kind named `*NetworkPolicy` (Calico, Cilium, Antrea, MultiNetworkPolicy,
    ...) except `networking.k8s.io/v1` NetworkPolicy itself, plus the kinds listed above.
    """
    group = api_group(api_version)
    if kind.endswith("NetworkPolicy"):
        return api_version != NETWORK_POLICY_API_VERSION
    return group in UNMODELLED_GROUPS or (group, kind) in UNMODELLED_KINDS


def _is_netverify_spec(data: object) -> bool:
    """A netverify spec file kept beside the manifests it names (`manifests: [.]`)."""
    return (
        isinstance(data, dict)
        and "kind" not in data
        and "apiVersion" not in data
        and {"manifests", "invariants"} <= data.keys()
    )


@dataclass
class _Builder:
    """The cluster as loaded so far, with where each object came from."""

    diagnostics: Diagnostics
    namespaces: dict[str, Namespace] = field(default_factory=dict)
    pods: list[Pod] = field(default_factory=list)
    policies: list[NetworkPolicy] = field(default_factory=list)
    admin_policies: list[AdminPolicy] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    unmodelled: list[UnmodelledObject] = field(default_factory=list)
    objects: dict[ObjectRef, SourceSpan] = field(default_factory=dict)
    unmodelled_objects: dict[ObjectRef, SourceSpan] = field(default_factory=dict)
    rules: dict[RuleRef, SourceSpan] = field(default_factory=dict)
    seen: dict[tuple[str, ObjectRef], SourceSpan] = field(default_factory=dict)
    object_count: int = 0
    """Objects read, of any kind and valid or not (a `List` counts as its items)."""

    def add_document(self, document: YamlDocument) -> None:
        if _is_netverify_spec(document.data):
            return
        self._add_object(document, (), document.data)

    def _add_object(self, document: YamlDocument, root: Path, data: object) -> None:
        fields = ObjectFields(document=document, root=root, sink=self.diagnostics)
        if not isinstance(data, dict):
            fields.error(
                (),
                "expected a Kubernetes object (a mapping with apiVersion and kind), "
                f"got {describe(data)}",
            )
            return
        api_version = _required_string(fields, data, "apiVersion")
        kind = _required_string(fields, data, "kind")
        if api_version is None or kind is None:
            return
        fields.name = kind
        if kind.endswith("List") and (kind == "List" or "items" in data):
            raw_items = data.get("items")
            items = () if raw_items is None else fields.sequence(raw_items, ("items",))
            for index, item in enumerate(items or ()):
                self._add_object(document, (*root, "items", index), item)
            return
        self.object_count += 1
        group = api_group(api_version)
        if kind == "Namespace" and group == "":
            self._add_namespace(fields, data)
        elif (kind == "Pod" and group == "") or group in WORKLOAD_GROUPS.get(kind, ()):
            self._add_pod(fields, data, kind)
        elif kind == "NetworkPolicy" and api_version == NETWORK_POLICY_API_VERSION:
            self._add_policy(fields, data)
        elif (admin_kind := ADMIN_KINDS.get((api_version, kind))) is not None:
            self._add_admin_policy(fields, data, admin_kind)
        elif kind == "Node" and group == "":
            self._add_node(fields, data)
        elif is_unmodelled(api_version, kind):
            self._add_unmodelled(fields, data, api_version, kind)

    def _identify(
        self, fields: ObjectFields, data: dict[str, object], kind: str, *, namespaced: bool
    ) -> tuple[ObjectRef, dict[str, str]] | None:
        """Name the object from its metadata and check its labels; None if it has no name."""
        raw_metadata = fields.required(data, (), "metadata")
        if raw_metadata is None:
            return None
        metadata = fields.mapping(raw_metadata, ("metadata",))
        if metadata is None:
            return None
        raw_name = fields.required(metadata, ("metadata",), "name")
        name = None if raw_name is None else fields.string(raw_name, ("metadata", "name"))
        if name == "":
            fields.error(("metadata", "name"), "must be non-empty")
            name = None
        namespace = None
        if namespaced:
            namespace = DEFAULT_NAMESPACE
            if (raw_namespace := metadata.get("namespace")) is not None:
                path: Path = ("metadata", "namespace")
                namespace = fields.string(raw_namespace, path)
                problem = None if namespace is None else dns1123_label_error(namespace, "namespace")
                if problem is not None:
                    fields.error(path, problem)
                    namespace = None
        if name is None or (namespaced and namespace is None):
            return None
        ref = ObjectRef(kind=kind, namespace=namespace, name=name)
        fields.name = str(ref)
        labels = read_labels(fields, metadata.get("labels"), ("metadata", "labels"))
        return ref, labels

    def _claim(self, fields: ObjectFields, ref: ObjectRef, group: str = "") -> SourceSpan | None:
        """Record where `ref` is defined and return that; None (after an error) when it
        already was."""
        span = fields.span()
        first = self.seen.setdefault((group, ref), span)
        if first is span:
            return span
        fields.error((), f"{ref} is defined more than once: at {first} and at {span}")
        return None

    def _add_namespace(self, fields: ObjectFields, data: dict[str, object]) -> None:
        identified = self._identify(fields, data, "Namespace", namespaced=False)
        if identified is None:
            return
        ref, labels = identified
        if (problem := dns1123_label_error(ref.name, "namespace name")) is not None:
            fields.error(("metadata", "name"), problem)
        span = self._claim(fields, ref)
        if span is None or fields.failed:
            return
        # The API server sets this label itself, overriding any value written in the manifest.
        labels[NAMESPACE_NAME_LABEL] = ref.name
        self.namespaces[ref.name] = Namespace(name=ref.name, labels=labels, defined=True)
        self.objects[ref] = span

    def _add_pod(self, fields: ObjectFields, data: dict[str, object], kind: str) -> None:
        identified = self._identify(fields, data, kind, namespaced=True)
        if identified is None:
            return
        ref, labels = identified
        assert ref.namespace is not None
        span = self._claim(fields, ref)
        if kind == "Pod":
            pod = read_pod(fields, data, ref.namespace, ref.name, labels)
        else:
            pod = read_workload(fields, data, kind, ref.namespace, ref.name)
        if span is not None and pod is not None:
            self.pods.append(pod)
            self.objects[ref] = span

    def _add_policy(self, fields: ObjectFields, data: dict[str, object]) -> None:
        identified = self._identify(fields, data, "NetworkPolicy", namespaced=True)
        if identified is None:
            return
        ref, _ = identified
        assert ref.namespace is not None
        span = self._claim(fields, ref)
        policy = read_network_policy(fields, data, ref.namespace, ref.name)
        if span is None or policy is None:
            return
        self.policies.append(policy)
        self._record(fields, ref, span, policy)

    def _add_admin_policy(
        self, fields: ObjectFields, data: dict[str, object], kind: AdminKind
    ) -> None:
        identified = self._identify(fields, data, kind.kind, namespaced=False)
        if identified is None:
            return
        ref, _ = identified
        span = self._claim(fields, ref, api_group(kind.api_version))
        policy = read_admin_policy(fields, data, kind, ref.name)
        if span is None or policy is None:
            return
        self.admin_policies.append(policy)
        self._record(fields, ref, span, policy)

    def _record(
        self,
        fields: ObjectFields,
        ref: ObjectRef,
        span: SourceSpan,
        policy: NetworkPolicy | AdminPolicy,
    ) -> None:
        """Where a policy and each of its rules (`spec.ingress[i]`, `spec.egress[i]`) are."""
        self.objects[ref] = span
        for direction in Direction:
            for index in range(len(policy.rules(direction))):
                rule = RuleRef(policy=ref, direction=direction, index=index)
                self.rules[rule] = fields.span(("spec", RULES_KEY[direction], index))

    def _add_node(self, fields: ObjectFields, data: dict[str, object]) -> None:
        identified = self._identify(fields, data, "Node", namespaced=False)
        if identified is None:
            return
        ref, labels = identified
        span = self._claim(fields, ref)
        node = read_node(fields, data, ref.name, labels)
        if span is not None and node is not None:
            self.nodes.append(node)
            self.objects[ref] = span

    def _add_unmodelled(
        self, fields: ObjectFields, data: dict[str, object], api_version: str, kind: str
    ) -> None:
        namespaced = not kind.startswith(CLUSTER_SCOPED_PREFIXES)
        identified = self._identify(fields, data, kind, namespaced=namespaced)
        if identified is None:
            return
        ref, _ = identified
        span = self._claim(fields, ref, api_group(api_version))
        if span is None:
            return
        fields.warn_or_fail(
            (), f"{ref} ({api_version}) is not modelled: verdicts do not account for it"
        )
        self.unmodelled.append(
            UnmodelledObject(
                api_version=api_version, kind=kind, namespace=ref.namespace, name=ref.name
            )
        )
        self.unmodelled_objects[ref] = span

    def build(self) -> LoadedCluster:
        """The cluster, sorted, with namespaces that something refers to but nothing defines."""
        namespaces = dict(self.namespaces)
        referenced = [pod.namespace for pod in self.pods]
        referenced += [policy.namespace for policy in self.policies]
        for name in referenced:
            if name not in namespaces:
                labels = {NAMESPACE_NAME_LABEL: name}
                namespaces[name] = Namespace(name=name, labels=labels, defined=False)
        cluster = Cluster(
            namespaces=tuple(namespaces[name] for name in sorted(namespaces)),
            pods=tuple(sorted(self.pods, key=lambda p: (p.namespace, p.name or "", p.kind))),
            policies=tuple(sorted(self.policies, key=lambda p: (p.namespace, p.name))),
            admin_policies=tuple(sorted(self.admin_policies, key=lambda p: (p.kind, p.name))),
            nodes=tuple(sorted(self.nodes, key=lambda n: n.name)),
            unmodelled=tuple(
                sorted(
                    self.unmodelled,
                    key=lambda u: (u.namespace or "", u.name, u.kind, u.api_version),
                )
            ),
        )
        # A modelled object's position wins over an unmodelled one with the same kind and name
        # (a Calico and a Kubernetes NetworkPolicy may share both).
        sources = SourceMap(objects={**self.unmodelled_objects, **self.objects}, rules=self.rules)
        return LoadedCluster(
            cluster=cluster, sources=sources, warnings=tuple(self.diagnostics.warnings)
        )


def _required_string(fields: ObjectFields, data: dict[str, object], key: str) -> str | None:
    raw = fields.required(data, (), key)
    return None if raw is None else fields.string(raw, (key,))


class ParseCache:
    """Parsed documents by file text: two revisions that share most files (a diff) parse
    each shared file once. Parsing is most of the cost of loading; a document's data and
    line numbers depend only on the text, so a hit only has to be renamed to its file."""

    def __init__(self) -> None:
        self._documents: dict[str, list[YamlDocument]] = {}

    def parse(self, text: str, file: str) -> list[YamlDocument]:
        cached = self._documents.get(text)
        if cached is None:
            cached = self._documents[text] = parse_documents(text, file)
        return [
            document if document.file == file else replace(document, file=file)
            for document in cached
        ]


def load_manifests(
    paths: Sequence[str],
    *,
    strict: bool = False,
    stdin: TextIO | None = None,
    require_objects: bool = True,
    parse_cache: ParseCache | None = None,
) -> LoadedCluster:
    """Load every manifest under `paths` (`-` is stdin) into one cluster.

    Raises `InputError` with every error of every file; warnings (unmodelled kinds, unknown
    fields) are returned in `LoadedCluster.warnings`, and are errors under `strict`. A
    directory without any manifest file is an error, and so, under `require_objects`, is an
    input without any Kubernetes object at all (nothing to prove anything about). Loads that
    share a `parse_cache` parse a text they have in common once.
    """
    parse = parse_documents if parse_cache is None else parse_cache.parse
    diagnostics = Diagnostics(strict=strict)
    builder = _Builder(diagnostics)
    for path in paths:
        try:
            files = collect_files([path])
        except InputError as exc:
            diagnostics.errors.extend(exc.diagnostics)
            continue
        if not files:
            diagnostics.errors.append(
                Diagnostic(
                    severity=Severity.ERROR,
                    message=f"{path}: no manifest files ({', '.join(MANIFEST_SUFFIXES)}) "
                    "in this directory",
                )
            )
        for file in files:
            try:
                documents = parse(read_text(file, stdin), display_name(file))
            except InputError as exc:
                diagnostics.errors.extend(exc.diagnostics)
                continue
            for document in documents:
                builder.add_document(document)
    if require_objects and not diagnostics.errors and builder.object_count == 0:
        listed = ", ".join(display_name(path) for path in paths) or "no paths given"
        diagnostics.errors.append(
            Diagnostic(
                severity=Severity.ERROR,
                message=f"no Kubernetes objects in the manifests ({listed}): nothing to verify",
            )
        )
    if diagnostics.errors:
        raise InputError(diagnostics.errors)
    return builder.build()
