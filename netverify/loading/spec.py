"""Spec files (spec language v1) -> `LoadedSpec`, resolved against the loaded cluster.

The second of two steps (the first, reading the file against the schema, is `specfile`):
names, selectors, CIDRs and ports are resolved and validated with the same rules as
manifests. Every error names the file, line and field path.
"""

import re
from dataclasses import dataclass, field

from netverify.loading.fields import format_field
from netverify.loading.flows import no_backends_message
from netverify.loading.podnames import pods_named
from netverify.loading.settings import SettingsLayer, SettingsSources
from netverify.loading.spec_services import destination_service, per_backend, service_ports
from netverify.loading.specfile import Path, RawSpec
from netverify.loading.validation import (
    cidr_error,
    closest_match,
    did_you_mean,
    label_key_error,
    label_value_error,
    parse_cidr,
    port_name_error,
    port_number_error,
)
from netverify.model import (
    PROTOCOLS,
    Cluster,
    Diagnostic,
    EndpointPattern,
    InputError,
    Invariant,
    InvariantKind,
    IPNetwork,
    LabelRequirement,
    LabelSelector,
    LoadedSpec,
    NamespaceScope,
    Operator,
    Pod,
    PodScope,
    PortPattern,
    PortRange,
    Protocol,
    Severity,
    SourceSpan,
    Spec,
)
from netverify.model.spec_schema import (
    EndpointSpec,
    InvariantSpec,
    PortObjectSpec,
    PortSpec,
    SelectorSpec,
)

_PORT_TEXT = re.compile(
    r"(?:(?P<start>[0-9]+)(?:-(?P<end>[0-9]+))?|(?P<name>[^/]+))(?:/(?P<protocol>[^/]+))?"
)


@dataclass
class _Resolver:
    """Resolves one spec against a cluster, collecting every error."""

    raw: RawSpec
    cluster: Cluster
    sources: SettingsSources
    errors: list[Diagnostic] = field(default_factory=list)

    def error(self, path: Path, message: str) -> None:
        self.errors.append(
            Diagnostic(
                severity=Severity.ERROR,
                message=message,
                span=SourceSpan(file=self.raw.file, line=self.raw.document.line_of(path)),
                field=format_field(path),
            )
        )

    def spec(self) -> LoadedSpec:
        layer = self.settings()
        invariants: list[Invariant] = []
        locations: dict[str, SourceSpan] = {}
        first_seen: dict[str, int] = {}
        for index, entry in enumerate(self.raw.spec.invariants):
            path: Path = ("invariants", index)
            if entry.name in first_seen:
                self.error(
                    (*path, "name"),
                    f'duplicate invariant name "{entry.name}" (first at line '
                    f"{self.raw.document.line_of(('invariants', first_seen[entry.name]))})",
                )
                continue
            first_seen[entry.name] = index
            expanded = self.invariant(entry, path)
            invariants += expanded
            if expanded:
                locations[entry.name] = SourceSpan(
                    file=self.raw.file, line=self.raw.document.line_of(path)
                )
        if self.errors:
            raise InputError(self.errors)
        return LoadedSpec(
            spec=Spec(
                file=self.raw.file,
                manifests=self.raw.manifest_paths,
                settings=self.sources.settings(layer),
                invariants=tuple(invariants),
            ),
            locations=locations,
            profile_settings=self.sources.per_profile(layer),
        )

    def settings(self) -> SettingsLayer:
        """The settings the spec names (those it leaves out come from the other sources)."""
        raw = self.raw.spec.settings
        cidrs: list[IPNetwork] = []
        for index, text in enumerate(raw.pod_cidrs):
            cidr = self.cidr(text, ("settings", "podCIDRs", index))
            if cidr is not None:
                cidrs.append(cidr)
        named = raw.model_fields_set
        return SettingsLayer(
            ip_block_matches_pods=(
                raw.ip_block_matches_pods if "ip_block_matches_pods" in named else None
            ),
            pod_cidrs=tuple(cidrs) if "pod_cidrs" in named else None,
        )

    def cidr(self, text: str, path: Path) -> IPNetwork | None:
        message = cidr_error(text)
        if message is not None:
            self.error(path, message)
            return None
        return parse_cidr(text)

    def invariant(self, entry: InvariantSpec, path: Path) -> list[Invariant]:
        """The invariant; for one to a Service, one per backend (none after an error)."""
        kind = entry.kind
        flows = entry.flows
        flow_path = (*path, kind.value)
        namespaces = NamespaceScope(entry.namespaces)
        if flows.source.service is not None:
            self.error((*flow_path, "from", "service"), "a Service is a destination only (`to`)")
        to_path: Path = (*flow_path, "to")
        service = destination_service(flows.destination, self.cluster, to_path, self.error)
        source = self.endpoint(flows.source, (*flow_path, "from"), namespaces)
        destination = (
            EndpointPattern()
            if service is not None
            else self.endpoint(flows.destination, to_path, namespaces)
        )
        if flows.ports is not None and not flows.ports:
            self.error((*flow_path, "ports"), "empty port list: omit `ports` to mean every port")
        if service is not None:
            chosen = service_ports(service, flows.ports, (*flow_path, "ports"), self.error)
            ports: list[PortPattern | None] = []
        else:
            ports = [
                self.port(port, (*flow_path, "ports", index))
                for index, port in enumerate(flows.ports or ())
            ]
        if source is None or destination is None or None in ports or self.errors:
            return []
        default_pods = PodScope.ANY if kind is InvariantKind.FORBID else PodScope.EXISTING
        invariant = Invariant(
            name=entry.name,
            description=entry.description,
            kind=kind,
            source=source,
            destination=destination,
            ports=tuple(port for port in ports if port is not None),
            pods=PodScope(entry.pods) if entry.pods else default_pods,
            namespaces=namespaces,
        )
        if service is None:
            return [invariant]
        expanded = per_backend(invariant, service, chosen, self.cluster)
        if not expanded:
            self.error(to_path, no_backends_message(service, self.cluster.pods))
        return expanded

    def endpoint(
        self, raw: EndpointSpec, path: Path, namespaces: NamespaceScope
    ) -> EndpointPattern | None:
        errors_before = len(self.errors)
        namespace_name: str | None = None
        namespace_selector = pod_selector = None
        pod_name: str | None = None
        pod_kind: str | None = None
        if isinstance(raw.namespace, str):
            namespace_name = raw.namespace
            if (
                namespaces is NamespaceScope.EXISTING
                and self.cluster.namespace(raw.namespace) is None
            ):
                known = [ns.name for ns in self.cluster.namespaces]
                self.error(
                    (*path, "namespace"),
                    f'no namespace named "{raw.namespace}" in the manifests'
                    f"{closest_match(raw.namespace, known)} (use `namespaces: any` to mean one "
                    "that could be created)",
                )
        elif raw.namespace is not None:
            namespace_selector = self.selector(raw.namespace, (*path, "namespace"))
        if isinstance(raw.pod, str):
            pod = self.pod_by_name(raw.pod, namespace_name, (*path, "pod"))
            if pod is not None:
                namespace_name, pod_name = pod.namespace, pod.name
                pod_kind = pod.kind if len(raw.pod.split("/")) == 3 else None
        elif raw.pod is not None:
            pod_selector = self.selector(raw.pod, (*path, "pod"))
        ip = self.cidr(raw.ip, (*path, "ip")) if raw.ip is not None else None
        if raw.external and (raw.namespace is not None or raw.pod is not None):
            self.error(
                (*path, "external"),
                "`external: true` matches no pod: it cannot be combined with `namespace` or "
                "`pod` (use `ip` to narrow the external addresses)",
            )
        if len(self.errors) > errors_before:
            return None
        return EndpointPattern(
            namespace_name=namespace_name,
            namespace_selector=namespace_selector,
            pod_name=pod_name,
            pod_kind=pod_kind,
            pod_selector=pod_selector,
            ip=ip,
            external=raw.external,
        )

    def pod_by_name(self, text: str, namespace: str | None, path: Path) -> Pod | None:
        """`name`, `namespace/name` or `namespace/Kind/name` of an existing pod or workload
        (the kind only tells apart a Pod and a workload of the same name)."""
        parts = text.split("/")
        if len(parts) > 3:
            self.error(
                path, f'invalid pod "{text}": write name, namespace/name or namespace/Kind/name'
            )
            return None
        name, kind = parts[-1], (parts[1] if len(parts) == 3 else None)
        if len(parts) > 1:
            if namespace is not None and namespace != parts[0]:
                self.error(path, f'pod "{text}" is not in namespace "{namespace}"')
                return None
            namespace = parts[0]
        candidates = pods_named(self.cluster, name, namespace, kind)
        if not candidates:
            where = f' in namespace "{namespace}"' if namespace else ""
            what = f"{kind} named" if kind else "pod or workload named"
            known = sorted({pod.name for pod in self.cluster.pods if pod.name})
            self.error(path, f'no {what} "{name}"{where}{closest_match(name, known)}')
            return None
        if len(candidates) > 1:
            if len({pod.namespace for pod in candidates}) > 1:
                spaces = ", ".join(pod.namespace for pod in candidates)
                advice = f"it exists in namespaces {spaces}; write namespace/name"
            else:
                spellings = " or ".join(f"{p.namespace}/{p.kind}/{p.name}" for p in candidates)
                kinds = " and ".join(f"a {pod.kind}" for pod in candidates)
                advice = f"{kinds} share it; write {spellings}"
            self.error(path, f'pod name "{name}" is ambiguous: {advice}')
            return None
        return candidates[0]

    def selector(self, raw: SelectorSpec | dict[str, str], path: Path) -> LabelSelector | None:
        if isinstance(raw, SelectorSpec):
            labels, labels_path = raw.match_labels, (*path, "matchLabels")
            requirements = raw.match_expressions
        else:
            labels, labels_path, requirements = raw, path, []
        for key, value in labels.items():
            self.check_label(key, value, (*labels_path, key))
        parsed: list[LabelRequirement] = []
        for index, requirement in enumerate(requirements):
            where = (*path, "matchExpressions", index)
            self.check_label(requirement.key, None, (*where, "key"))
            for value_index, value in enumerate(requirement.values):
                self.check_label(None, value, (*where, "values", value_index))
            operator = Operator(requirement.operator)
            needs_values = operator in (Operator.IN, Operator.NOT_IN)
            if needs_values and not requirement.values:
                self.error((*where, "values"), f"must be specified when `operator` is '{operator}'")
            if not needs_values and requirement.values:
                self.error(
                    (*where, "values"), f"may not be specified when `operator` is '{operator}'"
                )
            parsed.append(
                LabelRequirement(
                    key=requirement.key, operator=operator, values=tuple(requirement.values)
                )
            )
        return LabelSelector(match_labels=dict(labels), match_expressions=tuple(parsed))

    def check_label(self, key: str | None, value: str | None, path: Path) -> None:
        for message in (
            None if key is None else label_key_error(key),
            None if value is None else label_value_error(value),
        ):
            if message is not None:
                self.error(path, message)

    def port(self, raw: PortSpec, path: Path) -> PortPattern | None:
        errors_before = len(self.errors)
        pattern = self._port(raw, path)
        return pattern if len(self.errors) == errors_before else None

    def _port(self, raw: PortSpec, path: Path) -> PortPattern | None:
        if isinstance(raw, int):
            return self.numeric_port(raw, None, None, path)
        if isinstance(raw, PortObjectSpec):
            protocol = self.protocol(raw.protocol, (*path, "protocol"))
            if isinstance(raw.port, int):
                return self.numeric_port(raw.port, raw.end_port, protocol, path)
            if raw.end_port is not None:
                self.error((*path, "endPort"), "may only be specified with a numeric `port`")
            if raw.port is None:
                return PortPattern(protocol=protocol or Protocol.TCP)
            return self.named_port(raw.port, protocol, path)
        if raw in PROTOCOLS:
            return PortPattern(protocol=Protocol(raw))
        match = _PORT_TEXT.fullmatch(raw)
        if match is None:
            self.error(path, f'invalid port "{raw}": write 80, 80/TCP, 8000-9000/UDP, http or UDP')
            return None
        protocol = self.protocol(match["protocol"], path)
        if match["name"] is not None:
            return self.named_port(match["name"], protocol, path)
        end = int(match["end"]) if match["end"] is not None else None
        return self.numeric_port(int(match["start"]), end, protocol, path)

    def numeric_port(
        self, start: int, end: int | None, protocol: Protocol | None, path: Path
    ) -> PortPattern | None:
        for number in (start, end):
            if number is not None and (message := port_number_error(number)):
                self.error(path, message)
                return None
        if end is not None and end < start:
            self.error(path, f"empty port range {start}-{end}: the end must be at least the start")
            return None
        return PortPattern(
            protocol=protocol or Protocol.TCP,
            port_range=PortRange(start=start, end=start if end is None else end),
        )

    def named_port(self, name: str, protocol: Protocol | None, path: Path) -> PortPattern | None:
        if message := port_name_error(name):
            self.error(path, message)
            return None
        return PortPattern(protocol=protocol, named_port=name)

    def protocol(self, text: str | None, path: Path) -> Protocol | None:
        if text is None:
            return None
        if text not in PROTOCOLS:
            self.error(
                path,
                f'unsupported protocol "{text}": must be one of TCP, UDP, SCTP'
                f"{did_you_mean(text, PROTOCOLS)}",
            )
            return None
        return Protocol(text)


def resolve_spec(
    raw: RawSpec, cluster: Cluster, sources: SettingsSources | None = None
) -> LoadedSpec:
    """Resolve names against the cluster and validate what the schema cannot; the spec's
    `settings:` go on top of `sources` (built-in defaults when not given)."""
    return _Resolver(raw, cluster, sources or SettingsSources()).spec()
