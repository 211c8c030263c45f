"""Pure data: frozen pydantic models. Imports nothing else of netverify's."""

from netverify.model.base import Frozen
from netverify.model.cluster import (
    NAMESPACE_NAME_LABEL,
    ContainerPort,
    IPAddress,
    IPNetwork,
    Namespace,
    Pod,
    Protocol,
    Settings,
    UnmodelledObject,
)
from netverify.model.diagnostics import Diagnostic, InputError, Severity
from netverify.model.flow import Endpoint, ExternalEndpoint, Flow, PodEndpoint
from netverify.model.labels import LabelRequirement, LabelSelector, Operator
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
from netverify.model.state import Cluster, LoadedCluster

__all__ = [
    "NAMESPACE_NAME_LABEL",
    "Cluster",
    "ContainerPort",
    "Diagnostic",
    "Direction",
    "Endpoint",
    "ExternalEndpoint",
    "Flow",
    "Frozen",
    "IPAddress",
    "IPBlock",
    "IPNetwork",
    "InputError",
    "LabelRequirement",
    "LabelSelector",
    "LoadedCluster",
    "Namespace",
    "NetworkPolicy",
    "ObjectRef",
    "Operator",
    "Pod",
    "PodEndpoint",
    "PolicyPeer",
    "PolicyPort",
    "PolicyRule",
    "PortRange",
    "Protocol",
    "RuleRef",
    "Settings",
    "Severity",
    "SourceMap",
    "SourceSpan",
    "UnmodelledObject",
]
