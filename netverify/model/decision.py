"""The verdict on one concrete flow, with the reasons on both sides."""

from enum import StrEnum

from netverify.model.admin_policy import AdminAction
from netverify.model.base import Frozen
from netverify.model.flow import Flow, PodEndpoint
from netverify.model.objects import IPNetwork, UnmodelledObject
from netverify.model.policy import Direction
from netverify.model.refs import ObjectRef, RuleRef


class Layer(StrEnum):
    """A policy layer that can decide a side of a flow."""

    ADMIN_TIER = "Admin tier"
    NETWORK_POLICY = "NetworkPolicy"
    BASELINE_TIER = "Baseline tier"


ADMIN_LAYERS = frozenset({Layer.ADMIN_TIER, Layer.BASELINE_TIER})
"""The layers of admin policies, which node-local traffic does not bypass."""


class AdminMatch(Frozen):
    """The first rule of an admin policy that matched the flow, and what it does."""

    rule: RuleRef
    name: str | None = None
    """The rule's `name`, when it has one."""
    action: AdminAction


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
    admin_rule: AdminMatch | None = None
    """The Admin or Baseline tier rule that decided (Accept or Deny), when one did."""
    passed_by: AdminMatch | None = None
    """The Admin tier Pass rule that sent the flow on to NetworkPolicy, when one did."""

    @property
    def allows_node_local(self) -> bool:
        """Whether node-local traffic passes this side: NetworkPolicy never blocks it, admin
        tiers can (see `netverify.semantics.evaluator.is_node_local`)."""
        return self.allowed or self.decided_by not in ADMIN_LAYERS


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
    running is always allowed", kubernetes.io network-policies); admin tiers still apply."""

    @property
    def allowed(self) -> bool:
        if self.self_traffic:
            return True
        if self.node_local:
            return self.egress.allows_node_local and self.ingress.allows_node_local
        return self.egress.allowed and self.ingress.allowed


class Explanation(Frozen):
    """`explain`'s answer for one flow: its verdict and, when one end is a hostNetwork pod
    that may share a node with the other, the verdict on that placement too (the two can
    differ: node-local traffic is always allowed)."""

    decision: FlowDecision
    """The flow between pods on different nodes, or its only placement."""
    same_node: FlowDecision | None = None
    """The flow with both ends on the same node, when the manifests allow that placement."""
    order_dependent: tuple[ObjectRef, ...] = ()
    """Admin policies whose order the API leaves open (equal priorities, or both API
    versions in one tier) and on whose order the verdict depends; the decisions above walk
    them in netverify's order."""
    may_be_decided_by: tuple[UnmodelledObject, ...] = ()
    """Policy objects netverify does not model that apply to an end of the flow and could
    decide it otherwise (block it where allowed, allow it where blocked): the verdict is then
    unknown (`semantics.unmodelled`)."""
    doubt: str | None = None
    """Why the verdict shown is no definite answer where admin policies leave it open
    beyond `order_dependent`: the node a host-network end runs on, which a `nodes` peer may
    or may not select, or a `domainNames` peer netverify cannot resolve (prove's `unknown`
    for the same flow)."""
    addresses: tuple[IPNetwork, ...] = ()
    """The pod CIDRs an end without a known address was given addresses in (one per stretch
    the policies' CIDRs cut, `semantics.addresses`): `decision` is at one of them, and the
    verdict is the same at every other unless `address_dependent` says otherwise."""
    address_dependent: FlowDecision | None = None
    """The flow at other addresses in `addresses`, where its verdict differs from
    `decision`'s: the verdict then depends on addresses the manifests do not give, and is
    unknown."""
    unaddressed: tuple[PodEndpoint, ...] = ()
    """Ends that are pods without a known address, with no `podCIDRs` to give them one, on
    which the verdict rests: taken to match no ipBlock or networks peer (as prove assumes),
    they leave the flow with the verdict shown; at some address they would turn it."""

    @property
    def allowed(self) -> bool:
        """Allowed in some placement the manifests allow."""
        return self.decision.allowed or (self.same_node is not None and self.same_node.allowed)
