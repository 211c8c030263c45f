"""The diff with admin policy tiers: an added Deny, a priority swap, an equal priority and a
renamed rule, and a differential test against the reference evaluator on generated admin
policies."""

from itertools import product

from hypothesis import given
from hypothesis import strategies as st

from netverify.model import (
    CNP_API_VERSION,
    AdminAction,
    AdminPeer,
    AdminPolicy,
    AdminRule,
    AdminSubject,
    Cluster,
    ExternalEndpoint,
    Flow,
    LabelSelector,
    Namespace,
    Pod,
    PodEndpoint,
    PodScope,
    PolicyPort,
    PortRange,
    Protocol,
    RuleRef,
    Tier,
)
from netverify.model.diff import Change, Revision
from netverify.semantics.evaluator import is_self_traffic, placements, possible_verdicts
from tests.diff.test_diff_differential import (
    DIFFERENTIAL,
    _diff,
    _endpoints,
    always_node_local,
    covers_placed,
)
from tests.strategies import INTERESTING_PORTS, admin_policy_lists, clusters

NAMESPACES = tuple(
    Namespace(name=name, labels={"kubernetes.io/metadata.name": name}) for name in ("dev", "prod")
)
PODS = (Pod(namespace="dev", name="web"), Pod(namespace="prod", name="db"))


def _policy(
    name: str,
    priority: int,
    action: AdminAction,
    rule: str | None = None,
    ports: tuple[PolicyPort, ...] = (),
) -> AdminPolicy:
    """A ClusterNetworkPolicy of the Admin tier on dev's egress to prod (on `ports`, by
    default every port)."""
    return AdminPolicy(
        api_version=CNP_API_VERSION,
        kind="ClusterNetworkPolicy",
        name=name,
        tier=Tier.ADMIN,
        priority=priority,
        subject=AdminSubject(
            namespaces=LabelSelector(match_labels={"kubernetes.io/metadata.name": "dev"})
        ),
        egress=(
            AdminRule(
                name=rule,
                action=action,
                peers=(
                    AdminPeer(
                        namespaces=LabelSelector(
                            match_labels={"kubernetes.io/metadata.name": "prod"}
                        )
                    ),
                ),
                ports=ports,
            ),
        ),
    )


def _cluster(*admin: AdminPolicy) -> Cluster:
    return Cluster(namespaces=NAMESPACES, pods=PODS, admin_policies=admin)


def test_an_added_admin_deny_removes_connectivity_located_at_it() -> None:
    report = _diff(_cluster(), _cluster(_policy("guard", 10, AdminAction.DENY)), PodScope.EXISTING)
    assert report.complete and report.error is None
    assert [set(finding.protocols) for finding in report.findings] == [set(Protocol)]
    for finding in report.findings:  # one for every protocol
        assert finding.change is Change.REMOVED
        assert (finding.source.namespace, finding.destination.namespace) == ("dev", "prod")
        assert finding.cause is not None and finding.cause.revision is Revision.HEAD
        assert isinstance(finding.cause.what, RuleRef)
        assert finding.cause.what.policy.name == "guard"


def test_a_priority_swap_that_changes_verdicts_is_found() -> None:
    accept, deny = _policy("accept", 1, AdminAction.ACCEPT), _policy("deny", 2, AdminAction.DENY)
    swapped = accept.model_copy(update={"priority": 3})
    report = _diff(_cluster(accept, deny), _cluster(swapped, deny), PodScope.EXISTING)
    assert report.complete and report.error is None
    assert [set(finding.protocols) for finding in report.findings] == [set(Protocol)]
    for finding in report.findings:
        assert finding.change is Change.REMOVED
        assert finding.cause is not None
        assert isinstance(finding.cause.what, RuleRef)
        assert finding.cause.what.policy.name == "accept"


def test_a_renamed_rule_is_no_finding() -> None:
    before = _policy("guard", 10, AdminAction.DENY, rule="deny-prod")
    after = _policy("guard", 10, AdminAction.DENY, rule="no-prod")
    report = _diff(_cluster(before), _cluster(after), PodScope.EXISTING)
    assert report.complete and report.error is None
    assert report.findings == ()


def test_an_equal_priority_makes_the_report_incomplete() -> None:
    """Accept and Deny at one priority: dev -> prod may be either; not "no change"."""
    deny = _policy("deny", 2, AdminAction.DENY)
    tied = _policy("accept", 2, AdminAction.ACCEPT)
    report = _diff(_cluster(deny), _cluster(deny, tied), PodScope.EXISTING)
    assert report.error is None and report.findings == ()
    assert not report.complete
    assert report.incomplete_reason is not None
    assert "cnp/accept and cnp/deny" in report.incomplete_reason


def test_a_port_whose_change_depends_on_an_open_order_is_in_no_finding() -> None:
    """HEAD's Deny ties with BASE's Accept of TCP/1: dev -> prod is removed on every other
    port, and on TCP/1 only in some orders; the finding leaves TCP/1 out, the report says
    why it is incomplete."""
    accept = _policy(
        "z-accept", 2, AdminAction.ACCEPT, ports=(PolicyPort(port_range=PortRange(start=1, end=1)),)
    )
    deny = _policy("deny", 2, AdminAction.DENY)
    report = _diff(_cluster(accept), _cluster(accept, deny), PodScope.EXISTING)
    assert report.error is None and not report.complete
    assert (
        report.incomplete_reason is not None
        and "dev/web -> prod/db TCP/1" in report.incomplete_reason
    )
    ports = {
        protocol: [(r.start, r.end) for r in finding.ports]
        for finding in report.findings
        for protocol in finding.protocols
    }
    assert ports == {
        Protocol.TCP: [(2, 65535)],
        Protocol.UDP: [(1, 65535)],
        Protocol.SCTP: [(1, 65535)],
    }


def _revised_tiers(data: st.DataObject, base: Cluster) -> Cluster:
    """BASE with one change of its admin policies: one added, deleted, moved to another
    priority, its rules reordered or an action changed."""
    policies = list(base.admin_policies)
    change = data.draw(st.sampled_from(("add", "delete", "priority", "reorder", "action")))
    if change == "add" or not policies:
        names = [ns.name for ns in base.namespaces]
        added = data.draw(admin_policy_lists(names, 1))
        taken = {p.name for p in policies}
        policies += [p.model_copy(update={"name": f"new-{p.name}"}) for p in added]
        assert not taken & {p.name for p in policies[len(taken) :]}
    else:
        index = data.draw(st.integers(0, len(policies) - 1))
        policy = policies[index]
        if change == "delete":
            del policies[index]
        elif change == "priority" and policy.priority is not None:
            policies[index] = policy.model_copy(update={"priority": data.draw(st.integers(0, 9))})
        elif change == "reorder":
            policies[index] = policy.model_copy(
                update={"ingress": policy.ingress[::-1], "egress": policy.egress[::-1]}
            )
        elif policy.egress:
            first = policy.egress[0]
            action = data.draw(st.sampled_from([a for a in AdminAction if a is not first.action]))
            if policy.tier is Tier.BASELINE and policy.api_version != CNP_API_VERSION:
                action = (
                    AdminAction.DENY if first.action is AdminAction.ACCEPT else AdminAction.ACCEPT
                )
            egress = (first.model_copy(update={"action": action}), *policy.egress[1:])
            policies[index] = policy.model_copy(update={"egress": egress})
    ordered = tuple(sorted(policies, key=lambda p: (p.kind, p.name)))
    return base.model_copy(update={"admin_policies": ordered})


def _definite(cluster: Cluster, flow: Flow) -> bool | None:
    """The flow's verdict, None when it depends on an order the API leaves open."""
    verdicts = possible_verdicts(cluster, flow)
    return next(iter(verdicts)) if len(verdicts) == 1 else None


@DIFFERENTIAL
@given(data=st.data())
def test_every_changed_flow_under_admin_tiers_is_reported(data: st.DataObject) -> None:
    """As `test_every_changed_flow_between_existing_pods_is_reported`, with admin policies
    changed; a flow whose verdict depends on an open order is in no finding, and the report
    is then incomplete."""
    base = data.draw(clusters(max_pods=3, max_policies=2, max_admin_policies=3))
    head = _revised_tiers(data, base)
    report = _diff(base, head, PodScope.EXISTING)
    assert report.error is None
    if not report.complete:
        assert report.incomplete_reason is not None
        assert "leaves open" in report.incomplete_reason, report.incomplete_reason
    ports = sorted({*INTERESTING_PORTS, *(p.port for pod in base.pods for p in pod.ports)})
    pairs = product(
        zip(_endpoints(base), _endpoints(head), strict=True),
        zip(_endpoints(base), _endpoints(head), strict=True),
    )
    for (source, head_source), (destination, head_destination) in pairs:
        external = not isinstance(source, PodEndpoint) or not isinstance(destination, PodEndpoint)
        if is_self_traffic(source, destination) or (
            isinstance(source, ExternalEndpoint) and isinstance(destination, ExternalEndpoint)
        ):
            continue
        for protocol, port in product(Protocol, ports):
            flow = Flow(source=source, destination=destination, protocol=protocol, port=port)
            head_flow = Flow(
                source=head_source, destination=head_destination, protocol=protocol, port=port
            )
            for placed, head_placed in zip(placements(flow), placements(head_flow), strict=True):
                before, after = _definite(base, placed), _definite(head, head_placed)
                covering = [f for f in report.findings if covers_placed(f, placed)]
                if before is None or after is None:
                    # It may have changed: "no change" would be no proof.
                    assert not report.complete or base == head, placed
                    assert not covering or external, placed
                elif before == after:
                    assert external or always_node_local(flow) or not covering, placed
                else:
                    change = Change.ADDED if after else Change.REMOVED
                    if external:
                        assert change in {f.change for f in covering}, f"{change}: {placed}"
                    else:
                        assert [f.change for f in covering] == [change], (
                            f"{change} flow reported {len(covering)} times: {placed}"
                        )
