"""The spec file as users write it (spec language v1). `netverify schema` prints the JSON
Schema of `SpecFile`; `netverify.loading.spec` resolves it into `Spec`.

This shape is a public contract: fields may be added, never changed.
"""

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictInt,
    Tag,
    model_validator,
)

from netverify.model.invariants import InvariantKind


class _SpecModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class RequirementSpec(_SpecModel):
    """One `matchExpressions` entry."""

    key: str
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: list[str] = []


class SelectorSpec(_SpecModel):
    """A full label selector; the shorthand `{key: value}` means `matchLabels`."""

    match_labels: dict[str, str] = Field(default={}, alias="matchLabels")
    match_expressions: list[RequirementSpec] = Field(default=[], alias="matchExpressions")


UNION_TAGS = frozenset(
    {
        *("name", "full-selector", "shorthand-selector"),
        *("port-number", "port-text", "port-object"),
        *("path", "live-cluster", "context-name", "current-context"),
    }
)
"""Tags pydantic puts in error locations after a union field; the loader drops them."""


def _name_or_selector_shape(value: Any) -> str | None:
    """A string is a name; a mapping with matchLabels/matchExpressions, or with a value that
    is not a string, is a full selector (so `{matchLabels: dev}` and `{matchLabel: {...}}`
    are errors, not labels); any other mapping is the matchLabels shorthand."""
    if isinstance(value, str):
        return "name"
    if isinstance(value, SelectorSpec):
        return "full-selector"
    if isinstance(value, dict):
        full = {"matchLabels", "matchExpressions"} & value.keys()
        if full or not all(isinstance(label, str) for label in value.values()):
            return "full-selector"
        return "shorthand-selector"
    return None


NameOrSelector = Annotated[
    Annotated[str, Tag("name")]
    | Annotated[SelectorSpec, Tag("full-selector")]
    | Annotated[dict[str, str], Tag("shorthand-selector")],
    Discriminator(
        _name_or_selector_shape,
        custom_error_type="name_or_selector",
        custom_error_message="expected a name (a string) or a label selector (a mapping)",
    ),
]


class EndpointSpec(_SpecModel):
    """One side of an invariant. Every given field must match; `{}` or absent matches every
    pod and every external address."""

    namespace: NameOrSelector | None = Field(
        default=None,
        description="A namespace name, or a label selector on namespaces.",
    )
    pod: NameOrSelector | None = Field(
        default=None,
        description="An existing pod or workload name (`name` or `namespace/name`), or a "
        "label selector on pods.",
    )
    ip: str | None = Field(
        default=None,
        description="A CIDR: external addresses and pod addresses in it. In `to`, a single "
        "address that is a Service's ClusterIP means that Service (see `service`).",
    )
    service: str | None = Field(
        default=None,
        description="Only in `to`, alone: a Service (`namespace/name`); the flows to each of "
        "its backend pods on the target ports its Service ports map to on that pod. `ports` "
        "then names Service ports (by number or name); omitted, every Service port.",
    )
    external: StrictBool = Field(
        default=False,
        description="true: only addresses outside every pod (never a pod, not even a "
        "hostNetwork one); with `ip`, those in the CIDR. Not with `namespace` or `pod`.",
    )


class PortObjectSpec(_SpecModel):
    """A port like a NetworkPolicy port entry."""

    port: StrictInt | str | None = None
    protocol: str | None = None
    end_port: StrictInt | None = Field(default=None, alias="endPort")


def _port_shape(value: Any) -> str | None:
    """Booleans are refused: YAML's `on`/`yes`/`true` are not port 1."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return "port-number"
    if isinstance(value, str):
        return "port-text"
    if isinstance(value, dict | PortObjectSpec):
        return "port-object"
    return None


PortSpec = Annotated[
    Annotated[StrictInt, Tag("port-number")]
    | Annotated[str, Tag("port-text")]
    | Annotated[PortObjectSpec, Tag("port-object")],
    Discriminator(
        _port_shape,
        custom_error_type="port",
        custom_error_message='expected a port: a number, a string such as "80/TCP", or '
        "a mapping {port, protocol, endPort}",
    ),
]


class FlowSpec(_SpecModel):
    """The flows an invariant talks about."""

    source: EndpointSpec = Field(default=EndpointSpec(), alias="from")
    destination: EndpointSpec = Field(default=EndpointSpec(), alias="to")
    ports: list[PortSpec] | None = Field(
        default=None,
        description='Destination ports: "80", "80/TCP", "8000-9000/UDP", "http", "UDP" (every '
        "UDP port), or {port, protocol, endPort}. Omitted: every port of every protocol.",
    )


class InvariantSpec(_SpecModel):
    """One named invariant with exactly one of `forbid`, `require`, `reachable`."""

    name: str = Field(min_length=1)
    description: str | None = None
    pods: Literal["any", "existing"] | None = Field(
        default=None,
        description="Default: any for forbid, existing for require and reachable.",
    )
    namespaces: Literal["existing", "any"] = "existing"
    forbid: FlowSpec | None = Field(default=None, description="No matching flow is allowed.")
    require: FlowSpec | None = Field(default=None, description="Every matching flow is allowed.")
    reachable: FlowSpec | None = Field(
        default=None, description="At least one matching flow is allowed."
    )

    @model_validator(mode="after")
    def _exactly_one_kind(self) -> "InvariantSpec":
        given = [kind.value for kind in InvariantKind if getattr(self, kind.value) is not None]
        if len(given) != 1:
            found = " and ".join(given) if given else "none"
            raise ValueError(f"needs exactly one of forbid, require, reachable (found {found})")
        return self

    @property
    def kind(self) -> InvariantKind:
        return next(kind for kind in InvariantKind if getattr(self, kind.value) is not None)

    @property
    def flows(self) -> FlowSpec:
        flows: FlowSpec = getattr(self, self.kind.value)
        return flows


class SettingsSpec(_SpecModel):
    """Choices about semantics that Kubernetes leaves to the network plugin."""

    ip_block_matches_pods: StrictBool = Field(
        default=True,
        alias="ipBlockMatchesPods",
        description="true: ipBlock matches pod IPs (upstream conformance); false: Cilium-like.",
    )
    pod_cidrs: list[str] = Field(
        default=[],
        alias="podCIDRs",
        description="Pods without a known IP get a symbolic address in these CIDRs.",
    )


def _context_shape(value: Any) -> str | None:
    if value is True:
        return "current-context"
    return "context-name" if isinstance(value, str) and value else None


class ClusterManifests(_SpecModel):
    """A live cluster as manifests: the objects its API server lists (docs/cluster.md)."""

    cluster: Annotated[
        Annotated[Literal[True], Tag("current-context")] | Annotated[str, Tag("context-name")],
        Discriminator(
            _context_shape,
            custom_error_type="context",
            custom_error_message="expected a kubeconfig context name, or true for the "
            "current context",
        ),
    ] = Field(description="A kubeconfig context, or true for the current context.")
    kubeconfig: str | None = Field(
        default=None,
        description="The kubeconfig file, relative to this spec file "
        "(default: $KUBECONFIG, then ~/.kube/config).",
    )


def _manifests_shape(value: Any) -> str | None:
    if isinstance(value, str):
        return "path"
    return "live-cluster" if isinstance(value, dict | ClusterManifests) else None


ManifestsEntry = Annotated[
    Annotated[str, Tag("path")] | Annotated[ClusterManifests, Tag("live-cluster")],
    Discriminator(
        _manifests_shape,
        custom_error_type="manifests",
        custom_error_message="expected a path (a string) or a live cluster ({cluster: CONTEXT})",
    ),
]


class SpecFile(_SpecModel):
    """A netverify spec file (v1)."""

    manifests: list[ManifestsEntry] = Field(
        min_length=1,
        description="Files or directories, relative to this spec file, or live clusters "
        "({cluster: CONTEXT}).",
    )
    settings: SettingsSpec = SettingsSpec()
    invariants: list[InvariantSpec] = Field(min_length=1)
