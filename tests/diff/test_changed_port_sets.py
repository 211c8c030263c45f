"""`Revisions.changed_ports` from port sets (`changed_port_set`) against the per-port path
it replaces without admin policies: one `changes_at` per segment between the `port_cuts`.
For prove's revisions (`_InvariantRevisions`) the invariant's ports restrict the change."""

from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netverify.engine.diff.revisions import Revisions
from netverify.engine.violations import _InvariantRevisions
from netverify.model import Cluster, Flow, PodScope
from netverify.model.diff import Change
from netverify.semantics.portsets import PortSet
from tests.engine.test_differential import invariants
from tests.strategies import clusters, flows
from tests.strategies import settings as settings_strategy

PROPERTY = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@dataclass(frozen=True)
class _PerPort(Revisions):
    """The revisions asked port by port, as where admin policies apply."""

    def changed_port_set(self, flow: Flow, change: Change) -> PortSet | None:
        return None


@dataclass(frozen=True)
class _InvariantPerPort(_InvariantRevisions):
    def changed_port_set(self, flow: Flow, change: Change) -> PortSet | None:
        return None


@st.composite
def _revised(draw: st.DrawFn) -> tuple[Cluster, Cluster]:
    """A cluster and the same pods under the policies of another drawn cluster (in the
    namespaces they share)."""
    base = draw(clusters())
    other = draw(clusters())
    return base, base.model_copy(update={"policies": other.policies})


@PROPERTY
@given(data=st.data())
def test_changed_ports_from_port_sets_equal_the_per_port_path(data: st.DataObject) -> None:
    base, head = data.draw(_revised())
    probe = data.draw(flows(head))
    chosen = data.draw(settings_strategy())
    fast, slow = Revisions(base, head, chosen), _PerPort(base, head, chosen)
    for change in Change:
        assert fast.changed_port_set(probe, change) is not None
        assert fast.changed_ports(probe, change) == slow.changed_ports(probe, change)


@PROPERTY
@given(data=st.data())
def test_an_invariants_ports_restrict_the_change_as_port_by_port(data: st.DataObject) -> None:
    base, head = data.draw(_revised())
    probe = data.draw(flows(head))
    chosen = data.draw(settings_strategy())
    invariant = data.draw(invariants(PodScope.ANY))
    fast = _InvariantRevisions(base, head, chosen, invariant)
    slow = _InvariantPerPort(base, head, chosen, invariant)
    for change in Change:
        assert fast.changed_ports(probe, change) == slow.changed_ports(probe, change)
