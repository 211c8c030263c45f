"""The spec file as users write it (spec language v1). `netverify schema` prints the JSON
Schema of `SpecFile`; `netverify.loading.spec` resolves it into `Spec`.

This shape is a public contract: fields may be added, never changed.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

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


Selector = SelectorSpec | dict[str, str]


class EndpointSpec(_SpecModel):
    """One side of an invariant. Every given field must match; `{}` or absent matches every
    pod and every external address."""

    namespace: str | Selector | None = Field(
        default=None,
        description="A namespace name, or a label selector on namespaces.",
    )
    pod: str | Selector | None = Field(
        default=None,
        description="An existing pod or workload name (`name` or `namespace/name`), or a "
        "label selector on pods.",
    )
    ip: str | None = Field(
        default=None, description="A CIDR: external addresses and pod addresses in it."
    )


class PortObjectSpec(_SpecModel):
    """A port like a NetworkPolicy port entry."""

    port: int | str | None = None
    protocol: str | None = None
    end_port: int | None = Field(default=None, alias="endPort")


PortSpec = int | str | PortObjectSpec


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

    ip_block_matches_pods: bool = Field(
        default=True,
        alias="ipBlockMatchesPods",
        description="true: ipBlock matches pod IPs (upstream conformance); false: Cilium-like.",
    )
    pod_cidrs: list[str] = Field(
        default=[],
        alias="podCIDRs",
        description="Pods without a known IP get a symbolic address in these CIDRs.",
    )


class SpecFile(_SpecModel):
    """A netverify spec file (v1)."""

    manifests: list[str] = Field(
        min_length=1, description="Files or directories, relative to this spec file."
    )
    settings: SettingsSpec = SettingsSpec()
    invariants: list[InvariantSpec] = Field(min_length=1)
