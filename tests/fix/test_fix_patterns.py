"""`may_select_alike` against brute force: it may answer True for selectors that share no
pod (the fix is proved anyway), but never False for two that share one."""

from itertools import product

from hypothesis import given
from hypothesis import strategies as st

from netverify.engine.fix.patterns import may_select_alike
from netverify.model import LabelRequirement, LabelSelector, Operator
from netverify.semantics.matching import selector_matches

KEYS = ("app", "tier")
VALUES = ("a", "b", "c")
FRESH = "fresh"
"""A value no selector names: label values are unbounded."""

requirements = st.builds(
    lambda key, operator, values: LabelRequirement(
        key=key,
        operator=operator,
        values=tuple(values) if operator in (Operator.IN, Operator.NOT_IN) else (),
    ),
    st.sampled_from(KEYS),
    st.sampled_from(list(Operator)),
    st.lists(st.sampled_from(VALUES), min_size=1, max_size=2, unique=True),
)
selectors = st.builds(
    LabelSelector,
    match_labels=st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=2),
    match_expressions=st.lists(requirements, max_size=3).map(tuple),
)


def _some_pod_matches_both(first: LabelSelector, second: LabelSelector) -> bool:
    options = [None, *VALUES, FRESH]
    for values in product(options, repeat=len(KEYS)):
        labels = {key: value for key, value in zip(KEYS, values, strict=True) if value}
        if selector_matches(first, labels) and selector_matches(second, labels):
            return True
    return False


@given(selectors, selectors)
def test_never_says_apart_when_a_pod_matches_both(
    first: LabelSelector, second: LabelSelector
) -> None:
    assert may_select_alike(first, second) == _some_pod_matches_both(first, second)


def test_different_pinned_values_are_apart() -> None:
    grafana = LabelSelector(match_labels={"app": "grafana"})
    prometheus = LabelSelector(match_labels={"app": "prometheus"})
    assert not may_select_alike(grafana, prometheus)
    assert may_select_alike(grafana, LabelSelector(match_labels={"tier": "web"}))
