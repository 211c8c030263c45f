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

    @property
    def allowed(self) -> bool:
        return self.self_traffic or (self.egress.allowed and self.ingress.allowed)
