"""The reference evaluator: plain Python that decides one concrete flow at a time.

It is the definition of what netverify means by "allowed"; the Z3 encoding is tested
against it and every counterexample is replayed through it.
"""

from netverify.model import FlowDecision, Layer, SideDecision
from netverify.semantics.evaluator import (
    evaluate,
    explain_flow,
    is_node_local,
    may_be_node_local,
    placements,
)
from netverify.semantics.matching import (
    ip_block_contains,
    peer_matches,
    policy_selects,
    port_cuts,
    port_matches,
    rule_peers_match,
    selector_matches,
)

__all__ = [
    "FlowDecision",
    "Layer",
    "SideDecision",
    "evaluate",
    "explain_flow",
    "ip_block_contains",
    "is_node_local",
    "may_be_node_local",
    "peer_matches",
    "placements",
    "policy_selects",
    "port_cuts",
    "port_matches",
    "rule_peers_match",
    "selector_matches",
]
