"""The verdict on one concrete flow, with the reasons on both sides."""

from enum import StrEnum

from netverify.model.base import Frozen
from netverify.model.flow import Flow
from netverify.model.policy import Direction
from netverify.model.refs import ObjectRef, RuleRef


class Layer(StrEnum):
    """A policy layer that can decide a side of a flow."""

    NETWORK_POLICY = "NetworkPolicy"


class SideDecision(Frozen):
    """The verdict of one side: egress at the source or ingress at the destination."""

    direction: Direction
    governed: bool
    """False when the endpoint on this side is not a pod policies can select (an external
    address or a hostNetwork pod): the side then always allows."""
    isolated_by: tuple[ObjectRef, ...] = ()
    """Policies that select the endpoint for this direction."""
    allowed_by: tuple[RuleRef, ...] = ()
    """Rules of those policies that admit the flow."""
    allowed_by_peer: tuple[int | None, ...] = ()
    """For each rule of `allowed_by`, the index of its first `from`/`to` entry that matches
    the other end; None for a rule without entries (it admits every endpoint)."""
    decided_by: Layer | None = None
    """The layer whose opinion counted; None means nothing applied and the default allowed."""
    allowed: bool


class FlowDecision(Frozen):
    """The verdict on a flow with the reasons on both sides."""

    flow: Flow
    egress: SideDecision
    ingress: SideDecision
    self_traffic: bool = False
    """A pod's traffic to itself: always allowed, whatever the policies say."""
    node_local: bool = False
    """Traffic between a node (a hostNetwork pod) and a pod on that node, either way: always
    allowed, whatever the NetworkPolicies say ("traffic to and from the node where a Pod is
    running is always allowed", kubernetes.io network-policies)."""

    @property
    def allowed(self) -> bool:
        return (
            self.self_traffic or self.node_local or (self.egress.allowed and self.ingress.allowed)
        )


class Explanation(Frozen):
    """`explain`'s answer for one flow: its verdict and, when one end is a hostNetwork pod
    that may share a node with the other, the verdict on that placement too (the two can
    differ: node-local traffic is always allowed)."""

    decision: FlowDecision
    """The flow between pods on different nodes, or its only placement."""
    same_node: FlowDecision | None = None
    """The flow with both ends on the same node, when the manifests allow that placement."""

    @property
    def allowed(self) -> bool:
        """Allowed in some placement the manifests allow."""
        return self.decision.allowed or (self.same_node is not None and self.same_node.allowed)
