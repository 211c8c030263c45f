"""Pure data: frozen pydantic models. Imports nothing else of netverify's."""

from netverify.model.base import Frozen
from netverify.model.cluster import Cluster, LoadedCluster
from netverify.model.decision import Explanation, FlowDecision, Layer, SideDecision
from netverify.model.diagnostics import Diagnostic, InputError, Severity
from netverify.model.flow import (
    Endpoint,
    ExternalEndpoint,
    Flow,
    PodEndpoint,
    pod_at_first_address,
)
from netverify.model.invariants import (
    EndpointPattern,
    Invariant,
    InvariantKind,
    LoadedSpec,
    NamespaceScope,
    PodScope,
    PortPattern,
    Spec,
)
from netverify.model.labels import LabelRequirement, LabelSelector, Operator
from netverify.model.objects import (
    MAX_PORT,
    NAMESPACE_NAME_LABEL,
    PROTOCOLS,
    ContainerPort,
    IPAddress,
    IPNetwork,
    Namespace,
    Pod,
    Protocol,
    Settings,
    UnmodelledObject,
)
from netverify.model.policy import (
    Direction,
    IPBlock,
    NetworkPolicy,
    PolicyPeer,
    PolicyPort,
    PolicyRule,
    PortRange,
)
from netverify.model.refs import ObjectRef, RuleRef, SourceMap, SourceSpan
from netverify.model.services import BackendFlow, Service, ServiceFlows, ServicePort
from netverify.model.results import (
    InvariantResult,
    Report,
    Status,
    Witness,
)

__all__ = [
    "MAX_PORT",
    "NAMESPACE_NAME_LABEL",
    "PROTOCOLS",
    "BackendFlow",
    "Cluster",
    "ContainerPort",
    "Diagnostic",
    "Direction",
    "Endpoint",
    "EndpointPattern",
    "Explanation",
    "ExternalEndpoint",
    "Flow",
    "FlowDecision",
    "Frozen",
    "IPAddress",
    "IPBlock",
    "IPNetwork",
    "InputError",
    "Invariant",
    "InvariantKind",
    "InvariantResult",
    "LabelRequirement",
    "LabelSelector",
    "Layer",
    "LoadedCluster",
    "LoadedSpec",
    "Namespace",
    "NamespaceScope",
    "NetworkPolicy",
    "ObjectRef",
    "Operator",
    "Pod",
    "PodEndpoint",
    "PodScope",
    "PolicyPeer",
    "PolicyPort",
    "PolicyRule",
    "PortPattern",
    "PortRange",
    "Protocol",
    "Report",
    "RuleRef",
    "Service",
    "ServiceFlows",
    "ServicePort",
    "Settings",
    "Severity",
    "SideDecision",
    "SourceMap",
    "SourceSpan",
    "Spec",
    "Status",
    "UnmodelledObject",
    "Witness",
    "pod_at_first_address",
]
