"""Parsed manifest documents to the model's objects, by kind, with where each came from.

Each document is dispatched on its apiVersion and kind to the reader of that kind (`pods`,
`networkpolicy`, `services`, ...); objects that carry network policy netverify does not model
are reported (a warning, or an error under `strict`), and custom resources that may create
pods are remembered for one warning. All other kinds are skipped.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from netverify.loading.adminpolicy import ADMIN_KINDS, AdminKind, read_admin_policy
from netverify.loading.endpointslices import (
    ENDPOINT_SLICE_API_VERSION,
    read_endpoint_slice,
    with_endpoint_slices,
)
from netverify.loading.fields import Diagnostics, ObjectFields, describe
from netverify.loading.identity import ObjectIdentities
from netverify.loading.kinds import (
    CLUSTER_SCOPED_PREFIXES,
    NETWORK_POLICY_API_VERSION,
    api_group,
    is_unmodelled,
    may_create_pods,
    skipped_warning,
)
from netverify.loading.networkpolicy import read_network_policy
from netverify.loading.nodes import read_node
from netverify.loading.parsecache import ParseCache, read_once
from netverify.loading.pods import (
    OPERATOR_RENDERINGS,
    WORKLOAD_GROUPS,
    read_operator_pod,
    read_pod,
    read_workload,
)
from netverify.loading.rulelines import RuleLines
from netverify.loading.services import read_service
from netverify.loading.validation import dns1123_label_error
from netverify.loading.yamlconvert import Path
from netverify.loading.yamlsource import YamlDocument
from netverify.model import (
    NAMESPACE_NAME_LABEL,
    AdminPolicy,
    Cluster,
    EndpointSlice,
    LoadedCluster,
    Namespace,
    NetworkPolicy,
    Node,
    ObjectRef,
    Pod,
    Service,
    SkippedObject,
    SourceMap,
    SourceSpan,
    UnmodelledObject,
)

_Read = TypeVar("_Read")


def _is_netverify_spec(data: object) -> bool:
    """A netverify spec file kept beside the manifests it names (`manifests: [.]`)."""
    return (
        isinstance(data, dict)
        and "kind" not in data
        and "apiVersion" not in data
        and {"manifests", "invariants"} <= data.keys()
    )


@dataclass
class ClusterBuilder:
    """The cluster as loaded so far, with where each object came from."""

    diagnostics: Diagnostics
    identities: ObjectIdentities
    """Each object's name and namespace (`-n` among them), and where it was first defined."""
    namespaces: dict[str, Namespace] = field(default_factory=dict)
    pods: list[Pod] = field(default_factory=list)
    policies: list[NetworkPolicy] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    endpoint_slices: list[tuple[EndpointSlice, SourceSpan]] = field(default_factory=list)
    admin_policies: list[AdminPolicy] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    unmodelled: list[UnmodelledObject] = field(default_factory=list)
    objects: dict[ObjectRef, SourceSpan] = field(default_factory=dict)
    unmodelled_objects: dict[ObjectRef, SourceSpan] = field(default_factory=dict)
    skipped: list[SkippedObject] = field(default_factory=list)
    rules: RuleLines = field(default_factory=RuleLines)
    object_count: int = 0
    """Objects read, of any kind and valid or not (a `List` counts as its items)."""
    parse_cache: ParseCache | None = None
    """Shared with another load (a diff): objects it has read from the same data are reused."""

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
        elif (
            (kind == "Pod" and group == "")
            or group in WORKLOAD_GROUPS.get(kind, ())
            or (group, kind) in OPERATOR_RENDERINGS
        ):
            self._add_pod(fields, data, group, kind)
        elif kind == "Service" and api_version == "v1":
            self._add_service(fields, data)
        elif kind == "EndpointSlice" and api_version == ENDPOINT_SLICE_API_VERSION:
            self._add_endpoint_slice(fields, data)
        elif kind == "NetworkPolicy" and api_version == NETWORK_POLICY_API_VERSION:
            self._add_policy(fields, data)
        elif (admin_kind := ADMIN_KINDS.get((api_version, kind))) is not None:
            self._add_admin_policy(fields, data, admin_kind)
        elif kind == "Node" and group == "":
            self._add_node(fields, data)
        elif is_unmodelled(api_version, kind):
            self._add_unmodelled(fields, data, api_version, kind)
        elif may_create_pods(group, kind, data):
            self._add_skipped(data, api_version, kind)

    def _add_namespace(self, fields: ObjectFields, data: dict[str, object]) -> None:
        identified = self.identities.identify(fields, data, "Namespace", namespaced=False)
        if identified is None:
            return
        ref, labels = identified
        if (problem := dns1123_label_error(ref.name, "namespace name")) is not None:
            fields.error(("metadata", "name"), problem)
        if fields.failed:
            return
        _warn_of_beta_isolation(fields, data)
        # The API server sets this label itself, overriding any value written in the manifest.
        labels[NAMESPACE_NAME_LABEL] = ref.name
        namespace = Namespace(name=ref.name, labels=labels, defined=True)
        span = self.identities.claim(fields, ref, namespace)
        if span is not None:
            self.namespaces[ref.name] = namespace
            self.objects[ref] = span

    def _add_pod(
        self, fields: ObjectFields, data: dict[str, object], group: str, kind: str
    ) -> None:
        identified = self.identities.identify_namespaced(fields, data, kind)
        if identified is None:
            return
        ref, namespace, labels = identified
        if kind == "Pod" and group == "":
            pod = read_once(
                self.parse_cache,
                fields,
                data,
                namespace,
                lambda: read_pod(fields, data, namespace, ref.name, labels),
            )
        elif (group, kind) in OPERATOR_RENDERINGS:
            pod = read_operator_pod(fields, data, group, kind, namespace, ref.name)
        else:
            pod = read_once(
                self.parse_cache,
                fields,
                data,
                namespace,
                lambda: read_workload(fields, data, kind, namespace, ref.name),
            )
        if pod is not None and (span := self.identities.claim(fields, ref, pod)) is not None:
            self.pods.append(pod)
            self.objects[ref] = span

    def _read_namespaced(
        self,
        fields: ObjectFields,
        data: dict[str, object],
        kind: str,
        read: Callable[[ObjectFields, dict[str, object], str, str], _Read | None],
    ) -> tuple[ObjectRef, _Read] | None:
        """Read a namespaced object with `read` and record where it is; None after an error."""
        identified = self.identities.identify_namespaced(fields, data, kind)
        if identified is None:
            return None
        ref, namespace, _ = identified
        read_object = read_once(
            self.parse_cache,
            fields,
            data,
            namespace,
            lambda: read(fields, data, namespace, ref.name),
        )
        if read_object is None:
            return None
        if (span := self.identities.claim(fields, ref, read_object)) is None:
            return None
        self.objects[ref] = span
        return ref, read_object

    def _add_policy(self, fields: ObjectFields, data: dict[str, object]) -> None:
        added = self._read_namespaced(fields, data, "NetworkPolicy", read_network_policy)
        if added is None:
            return
        ref, policy = added
        self.policies.append(policy)
        self.rules.record(fields, ref, policy)

    def _add_admin_policy(
        self, fields: ObjectFields, data: dict[str, object], kind: AdminKind
    ) -> None:
        identified = self.identities.identify(fields, data, kind.kind, namespaced=False)
        if identified is None:
            return
        ref, _ = identified
        policy = read_admin_policy(fields, data, kind, ref.name)
        if policy is None:
            return
        span = self.identities.claim(fields, ref, policy, api_group(kind.api_version))
        if span is None:
            return
        self.admin_policies.append(policy)
        self.objects[ref] = span
        self.rules.record(fields, ref, policy)

    def _add_service(self, fields: ObjectFields, data: dict[str, object]) -> None:
        added = self._read_namespaced(fields, data, "Service", read_service)
        if added is not None:
            self.services.append(added[1])

    def _add_endpoint_slice(self, fields: ObjectFields, data: dict[str, object]) -> None:
        identified = self.identities.identify_namespaced(fields, data, "EndpointSlice")
        if identified is None:
            return
        ref, namespace, labels = identified
        read = read_endpoint_slice(fields, data, namespace, ref.name, labels)
        if read is not None and (span := self.identities.claim(fields, ref, read)) is not None:
            self.endpoint_slices.append((read, span))
            self.objects[ref] = span

    def _add_node(self, fields: ObjectFields, data: dict[str, object]) -> None:
        identified = self.identities.identify(fields, data, "Node", namespaced=False)
        if identified is None:
            return
        ref, labels = identified
        node = read_node(fields, data, ref.name, labels)
        if node is not None and (span := self.identities.claim(fields, ref, node)) is not None:
            self.nodes.append(node)
            self.objects[ref] = span

    def _add_unmodelled(
        self, fields: ObjectFields, data: dict[str, object], api_version: str, kind: str
    ) -> None:
        namespaced = not kind.startswith(CLUSTER_SCOPED_PREFIXES)
        identified = self.identities.identify(fields, data, kind, namespaced=namespaced)
        if identified is None:
            return
        ref, _ = identified
        span = self.identities.claim(fields, ref, data, api_group(api_version))
        if span is None:
            return
        message = f"not modelled ({api_version}): verdicts it may decide are unknown"
        if (api_version, kind) == ("extensions/v1beta1", "NetworkPolicy"):
            message += (
                "; Kubernetes serves extensions/v1beta1 NetworkPolicies no more since 1.16, "
                "and networking.k8s.io/v1 has the same fields: change the apiVersion"
            )
        fields.warn_or_fail((), message)
        self.unmodelled.append(
            UnmodelledObject(
                api_version=api_version,
                kind=kind,
                namespace=ref.namespace,
                name=ref.name,
                digest=_digest(data.get("spec")),
            )
        )
        self.unmodelled_objects[ref] = span

    def _add_skipped(self, data: dict[str, object], api_version: str, kind: str) -> None:
        """Remember a custom resource by name; one that has none is left out silently (this
        is not the place to validate objects netverify does not read)."""
        metadata = data.get("metadata")
        if not isinstance(metadata, dict) or not isinstance(name := metadata.get("name"), str):
            return
        namespace = metadata.get("namespace")
        self.skipped.append(
            SkippedObject(
                api_version=api_version,
                kind=kind,
                namespace=namespace if isinstance(namespace, str) else self.identities.namespace,
                name=name,
            )
        )

    def build(self) -> LoadedCluster:
        """The cluster, sorted, with namespaces that something refers to but nothing defines."""
        namespaces = dict(self.namespaces)
        referenced = [pod.namespace for pod in self.pods]
        referenced += [policy.namespace for policy in self.policies]
        referenced += [service.namespace for service in self.services]
        pods = tuple(sorted(self.pods, key=lambda p: (p.namespace, p.name or "", p.kind)))
        services, slice_warnings = with_endpoint_slices(self.services, self.endpoint_slices, pods)
        for name in referenced:
            if name not in namespaces:
                labels = {NAMESPACE_NAME_LABEL: name}
                namespaces[name] = Namespace(name=name, labels=labels, defined=False)
        cluster = Cluster(
            namespaces=tuple(namespaces[name] for name in sorted(namespaces)),
            pods=pods,
            policies=tuple(sorted(self.policies, key=lambda p: (p.namespace, p.name))),
            services=tuple(sorted(services, key=lambda s: (s.namespace, s.name))),
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
        warnings = [*self.diagnostics.warnings, *slice_warnings]
        if (skipped := skipped_warning(self.skipped)) is not None:
            warnings.append(skipped)
        return LoadedCluster(
            cluster=cluster,
            sources=sources,
            warnings=tuple(warnings),
            skipped=tuple(self.skipped),
        )


def _required_string(fields: ObjectFields, data: dict[str, object], key: str) -> str | None:
    raw = fields.required(data, (), key)
    return None if raw is None else fields.string(raw, (key,))


def _digest(spec: object) -> str:
    """A hash of a spec as read (mapping keys in order; a value JSON has no type for, such
    as a date, by its text)."""
    text = json.dumps(spec, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


BETA_ISOLATION = "net.beta.kubernetes.io/network-policy"
"""The namespace annotation that opted a namespace into isolation before NetworkPolicy v1."""


def _warn_of_beta_isolation(fields: ObjectFields, data: dict[str, object]) -> None:
    """A namespace annotated for the isolation of Kubernetes 1.6 and before (sock-shop's
    `{"ingress": {"isolation": "DefaultDeny"}}`): since 1.7 the annotation does nothing,
    and a reader would take the namespace for isolated."""
    metadata = data.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    if isinstance(annotations, dict) and BETA_ISOLATION in annotations:
        fields.warn(
            ("metadata", "annotations", BETA_ISOLATION),
            "has had no effect since Kubernetes 1.7: the namespace is not isolated by it "
            "(netverify ignores it too); isolate its pods with a NetworkPolicy "
            "(podSelector: {}, policyTypes: [Ingress])",
        )
