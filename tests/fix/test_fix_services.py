"""`fix` of an invariant about a Service: its backends' invariants, one name, proved as one.

A forbid into a Service is violated through each backend that admits the flow. The search
extends a candidate that closes one backend from the flow through the next; that flow is
the whole Service's result (every backend's invariant), not the first backend's alone.
"""

from pathlib import Path

from netverify.engine.fix.apply import applied
from netverify.engine.fix.search import Fixer
from netverify.engine.prove import prove
from netverify.model import Direction, Status
from netverify.model.fix import Candidate, ChangeKind, PolicyEdit
from netverify.model.flow import PodEndpoint
from tests.fix.test_fix import LIMITS, NAMESPACES_AND_PODS, _load

TWO_BACKENDS = (
    NAMESPACES_AND_PODS
    + """\
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, namespace: b, labels: {app: web, slot: one}}
spec: {containers: [{name: c, image: x, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-2, namespace: b, labels: {app: web, slot: two}}
spec: {containers: [{name: c, image: x, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: b}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
"""
)

# Each backend admits every namespace through a policy of its own, written differently (a
# port, or every port), so that no candidate repairs both at once.
EACH_BACKEND_OPEN = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-one, namespace: b}
spec:
  podSelector:
    matchLabels: {slot: one}
  ingress:
    - from:
        - namespaceSelector: {}
      ports:
        - {protocol: TCP, port: 8080}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-two, namespace: b}
spec:
  podSelector:
    matchLabels: {slot: two}
  ingress:
    - from:
        - namespaceSelector: {}
"""

CLIENT_NEVER_REACHES_WEB = """\
manifests: [cluster.yaml, policies.yaml]
invariants:
  - name: client-never-reaches-web
    forbid:
      from: {pod: a/client}
      to: {service: b/web}
"""


def test_the_flow_extended_from_is_the_whole_services(tmp_path: Path) -> None:
    """With either backend's policy removed, the Service is still reached through the
    other: the flow the search extends from says so, whichever backend is first."""
    (tmp_path / "cluster.yaml").write_text(TWO_BACKENDS)
    (tmp_path / "policies.yaml").write_text(EACH_BACKEND_OPEN)
    (tmp_path / "spec.yaml").write_text(CLIENT_NEVER_REACHES_WEB)
    loaded, loaded_spec = _load(tmp_path / "spec.yaml")
    (before,) = prove(loaded, loaded_spec, LIMITS).results
    assert before.status is Status.VIOLATED
    first = loaded_spec.spec.invariants[0]
    assert first.through is not None and len(loaded_spec.spec.invariants) == 2
    fixer = Fixer(loaded.cluster, loaded_spec, LIMITS, (before,))
    for closed, still_open in (("web-one", "web-2"), ("web-two", "web-1")):
        policy = next(p for p in loaded.cluster.policies if p.name == closed)
        edit = PolicyEdit(
            before=policy,
            after=policy.model_copy(update={"ingress": ()}),
            direction=Direction.INGRESS,
            rule_index=0,
        )
        candidate = Candidate(
            invariant=first.name, change=ChangeKind.REMOVE_RULE, edits=(edit,), why="test"
        )
        target = fixer._target(applied(loaded, candidate), first)
        assert target.status is Status.VIOLATED, (closed, target.reason)
        assert target.counterexample is not None
        destination = target.counterexample.decision.flow.destination
        assert isinstance(destination, PodEndpoint) and destination.pod.name == still_open
