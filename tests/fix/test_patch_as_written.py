"""An edited policy's document is rewritten to show only what changed, and reads back as the
policy that was proved (`loading/render.with_spec_replaced`)."""

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netverify.loading import load_manifests, render
from netverify.loading.render import dump_yaml, policy_manifest, with_spec_replaced
from netverify.model.policy import Direction, NetworkPolicy
from tests.strategies import clusters

# kube-prometheus' manifests/prometheus-networkPolicy.yaml: lists at their key's column,
# `port` before `protocol`, and `policyTypes` in another order than netverify writes them.
PROMETHEUS = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  labels:
    app.kubernetes.io/name: prometheus
  name: prometheus-k8s
  namespace: monitoring
spec:
  egress:
  - {}
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app.kubernetes.io/name: prometheus
    ports:
    - port: 9090
      protocol: TCP
    - port: 8080
      protocol: TCP
  - from:
    - podSelector:
        matchLabels:
          app.kubernetes.io/name: prometheus-adapter
    ports:
    - port: 9090
      protocol: TCP
  - from:
    - podSelector:
        matchLabels:
          app.kubernetes.io/name: grafana
    ports:
    - port: 9090
      protocol: TCP
  podSelector:
    matchLabels:
      app.kubernetes.io/name: prometheus
  policyTypes:
  - Egress
  - Ingress
"""


def _read(folder: Path, text: str) -> NetworkPolicy:
    path = folder / "policy.yaml"
    path.write_text(text)
    loaded = load_manifests([str(path)], strict=True)
    (policy,) = loaded.cluster.policies
    return policy


def _meaning(policy: NetworkPolicy) -> object:
    """The policy with each selector's requirements in one order: a selector's
    matchExpressions are ANDed, so the order the old text kept means nothing."""

    def canonical(value: object) -> object:
        if isinstance(value, dict):
            return {
                key: sorted(map(repr, item)) if key == "match_expressions" else canonical(item)
                for key, item in value.items()
            }
        if isinstance(value, list | tuple):
            return [canonical(item) for item in value]
        return value

    return canonical(policy.model_dump())


def test_a_removed_rule_is_the_only_change_in_the_rewritten_document(tmp_path: Path) -> None:
    before = _read(tmp_path, PROMETHEUS)
    after = before.model_copy(update={"ingress": (before.ingress[0], before.ingress[2])})
    rewritten = with_spec_replaced(PROMETHEUS, after)
    assert rewritten is not None
    lines = PROMETHEUS.splitlines(keepends=True)
    removed = "".join(lines[20:27])
    assert "prometheus-adapter" in removed
    assert rewritten == PROMETHEUS.replace(removed, "", 1)
    assert _read(tmp_path, rewritten) == after


def test_policy_types_the_document_left_out_stay_out_when_they_mean_the_same(
    tmp_path: Path,
) -> None:
    """A fix that narrows a rule of a policy written without `policyTypes` (Ingress by the
    API server's default) does not add them; one that makes the policy isolate egress
    too writes both."""
    document = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n" + (
        "metadata: {name: np, namespace: prod}\nspec:\n  podSelector: {}\n"
        "  ingress:\n  - ports:\n    - port: 80\n"
    )
    before = _read(tmp_path, document)
    narrowed = before.model_copy(update={"ingress": ()})
    rewritten = with_spec_replaced(document, narrowed)
    assert rewritten is not None
    assert "policyTypes" not in rewritten
    assert _read(tmp_path, rewritten) == narrowed
    egress = before.model_copy(
        update={"policy_types": frozenset(Direction), "egress": before.ingress}
    )
    rewritten = with_spec_replaced(document, egress)
    assert rewritten is not None
    assert _read(tmp_path, rewritten) == egress
    assert "policyTypes" not in rewritten


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_rewritten_document_reads_back_as_the_new_policy(
    data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Whatever the written policy and the new one, the rewritten document is the new
    policy (key order and list order kept from the old text never change the meaning)."""
    old, new = (
        data.draw(clusters(max_pods=1, max_policies=2).filter(lambda c: len(c.policies) == 2))
    ).policies
    # Rules of a direction the policy does not isolate mean nothing and are not written.
    new = new.model_copy(
        update={
            "name": old.name,
            "namespace": old.namespace,
            **{d.value.lower(): () for d in Direction if d not in new.policy_types},
        }
    )
    manifest = policy_manifest(old)
    if data.draw(st.booleans(), label="policyTypes left to the API server's default"):
        implied = {Direction.INGRESS, *([Direction.EGRESS] if old.egress else [])}
        if old.policy_types == implied:
            del manifest["spec"]["policyTypes"]
    if data.draw(st.booleans(), label="protocol: TCP left to the API server's default"):
        for direction in ("ingress", "egress"):
            for rule in manifest["spec"].get(direction, ()):
                for port in rule.get("ports", ()):
                    if port["protocol"] == "TCP":
                        del port["protocol"]
    document = dump_yaml(manifest, indent_lists=data.draw(st.booleans()))
    rewritten = with_spec_replaced(document, new)
    assert rewritten is not None
    folder = tmp_path_factory.mktemp("policy")
    assert _meaning(_read(folder, rewritten)) == _meaning(new)
    assert with_spec_replaced(document, old) == document


def test_a_port_the_document_wrote_without_protocol_stays_without_it(tmp_path: Path) -> None:
    """Argo CD's repo-server policy writes `- port: 8084` (TCP by the API server's
    default): a fix that narrows the rule's peer does not add `protocol: TCP` to it."""
    document = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n" + (
        "metadata: {name: np, namespace: prod}\nspec:\n  podSelector: {}\n"
        "  ingress:\n  - from:\n    - namespaceSelector: {}\n    ports:\n    - port: 8084\n"
    )
    before = _read(tmp_path, document)
    narrowed = before.model_copy(
        update={"ingress": (before.ingress[0].model_copy(update={"peers": ()}),)}
    )
    rewritten = with_spec_replaced(document, narrowed)
    assert rewritten is not None
    assert "protocol" not in rewritten
    assert _read(tmp_path, rewritten) == narrowed


# ingress-nginx's chart-rendered controller policy: quoted label values (as every Helm chart
# writes `app.kubernetes.io/version`), a comment among the labels, a field after `spec`.
HELM_RENDERED = """\
# Source: ingress-nginx/templates/controller-networkpolicy.yaml
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  labels:
    app.kubernetes.io/version: "1.15.1"
    build: "0123"   # a number unless quoted
    app.kubernetes.io/component: controller
  annotations: {note: 'kept as written'}
  name: ingress-nginx-controller
  namespace: ingress-nginx
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/component: controller
  policyTypes:
    - Ingress
    - Egress
  ingress:
    - ports:
        - protocol: TCP
          port: 80
        - protocol: TCP
          port: 10254
  egress:
    - {}
# after the spec
status: {}
"""


def test_only_the_spec_of_a_helm_rendered_document_is_rewritten(tmp_path: Path) -> None:
    """A fix that drops a port changes that port's lines only: metadata keeps its quotes,
    flow style and comments, and what follows the spec stays."""
    before = _read(tmp_path, HELM_RENDERED)
    rule = before.ingress[0]
    after = before.model_copy(
        update={"ingress": (rule.model_copy(update={"ports": rule.ports[:1]}),)}
    )
    rewritten = with_spec_replaced(HELM_RENDERED, after)
    dropped = "        - protocol: TCP\n          port: 10254\n"
    assert rewritten == HELM_RENDERED.replace(dropped, "", 1)
    assert _read(tmp_path, rewritten) == after


@pytest.mark.parametrize("document", [PROMETHEUS, HELM_RENDERED])
def test_libyaml_and_the_pure_python_loader_rewrite_a_document_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, document: str
) -> None:
    """The documents are parsed by libyaml where it is safe: the pure-Python loader, which
    text libyaml may not be given falls back to, rewrites them the same."""
    before = _read(tmp_path, document)
    after = before.model_copy(update={"ingress": before.ingress[:1]})
    fast = with_spec_replaced(document, after)
    monkeypatch.setattr(render, "fast_path_is_safe", lambda text: False)
    assert with_spec_replaced(document, after) == fast
    assert fast is not None and _read(tmp_path, fast) == after
