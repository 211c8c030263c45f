"""One flow's explanation, as `explain` shows it: the reference evaluator's verdict and rules,
with why that verdict may be no definite answer.

The evaluator already says where policy objects netverify does not model, an open order of
admin policies or the address of a pod in the pod CIDRs may decide otherwise. Where admin
policies leave it open in ways only the engine asks (`flow_doubt`: a `nodes` peer and a
host-network end whose node is unknown, a `domainNames` peer), prove's verdict on the flow is
`unknown`, and explain must not answer more surely than prove.
"""

from netverify.model import Cluster, Explanation, Flow, Settings
from netverify.semantics import explain_flow


def explained(cluster: Cluster, flow: Flow, settings: Settings) -> Explanation:
    """The evaluator's explanation of the flow, with the engine's `doubt` where there is one.
    Without admin policies there is none, and the solver's modules are not imported."""
    explanation = explain_flow(cluster, flow, settings)
    if not cluster.admin_policies or explanation.order_dependent:
        return explanation
    from netverify.engine.tiers import flow_doubt

    decided = explanation.decision.flow  # at the address the evaluator chose, where it chose one
    doubt = flow_doubt(cluster, settings, decided, expect_allowed=explanation.allowed)
    return explanation if doubt is None else explanation.model_copy(update={"doubt": doubt})
