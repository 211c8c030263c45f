"""`merged`: two fixes' edits of one policy become one only when they change different
rules; any overlap, or a change beyond the rules, keeps them apart."""

from netverify.engine.fix.apply import merged
from netverify.model import (
    Direction,
    LabelSelector,
    NetworkPolicy,
    PolicyPeer,
    PolicyPort,
    PolicyRule,
    PortRange,
    Protocol,
)
from netverify.model.fix import PolicyEdit


def _rule(port: int) -> PolicyRule:
    return PolicyRule(
        peers=(PolicyPeer(namespace_selector=LabelSelector()),),
        ports=(PolicyPort(protocol=Protocol.TCP, port_range=PortRange(start=port, end=port)),),
    )


BASE = NetworkPolicy(
    namespace="b",
    name="server",
    pod_selector=LabelSelector(),
    policy_types=frozenset({Direction.INGRESS}),
    ingress=(_rule(1), _rule(2)),
)


def _edit(*rules: PolicyRule, **update: object) -> PolicyEdit:
    after = BASE.model_copy(update={"ingress": rules, **update})
    return PolicyEdit(before=BASE, after=after, direction=Direction.INGRESS, rule_index=0)


def test_a_removal_and_an_appended_rule_merge() -> None:
    edit = merged(_edit(_rule(2)), _edit(_rule(1), _rule(2), _rule(3)))
    assert edit is not None and edit.after.rules(Direction.INGRESS) == (_rule(2), _rule(3))


def test_replacements_of_different_rules_merge() -> None:
    edit = merged(_edit(_rule(5), _rule(2)), _edit(_rule(1), _rule(6)))
    assert edit is not None and edit.after.rules(Direction.INGRESS) == (_rule(5), _rule(6))


def test_two_changes_of_one_rule_do_not_merge() -> None:
    assert merged(_edit(_rule(5), _rule(2)), _edit(_rule(6), _rule(2))) is None
    assert merged(_edit(_rule(2)), _edit(_rule(7), _rule(2))) is None


def test_a_change_beside_the_rules_does_not_merge() -> None:
    other_pods = LabelSelector(match_labels={"app": "x"})
    assert merged(_edit(_rule(2)), _edit(_rule(1), _rule(2), pod_selector=other_pods)) is None
