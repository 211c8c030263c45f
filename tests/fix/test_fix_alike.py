"""`fix` on a rule repeated across apps' policies (issue 15's
`internet-never-reaches-prod-frontends`): one fix edits every policy with a rule like the
one that admitted the counterexample, where one policy per counterexample ran out of
changes (`MAX_DEPTH`) and ended "no proved fix"."""

from pathlib import Path

from netverify.encoding.solver import SolverLimits
from netverify.engine.fix import MAX_DEPTH, fix
from netverify.engine.fix.apply import applied
from netverify.engine.prove import prove
from netverify.loading import load_manifests
from netverify.loading.settings import SettingsSources
from netverify.loading.spec import resolve_spec
from netverify.loading.specfile import read_spec
from netverify.model import Status
from netverify.model.fix import ChangeKind

LIMITS = SolverLimits(timeout_seconds=30, rlimit=10**8)
APPS = ("auth", "cart", "search", "profile")
PARTNERS = {"auth": "198.51.100.0/24", "cart": "192.0.2.0/24"}


def _cluster() -> str:
    """A prod namespace per app, isolated by a default deny, its frontend open to the
    internet on `http` (as the generator writes `<app>-frontend-ingress`), two of them to a
    partner's network on 443 and 8443 (`allow-partner`, each partner its own network)."""
    documents = []
    for app in APPS:
        documents.append(
            f"""\
apiVersion: v1
kind: Namespace
metadata: {{name: {app}-prod, labels: {{env: prod}}}}
---
apiVersion: v1
kind: Pod
metadata: {{name: {app}-frontend, namespace: {app}-prod, labels: {{app: {app}, tier: frontend}}}}
spec: {{containers: [{{name: c, image: x, ports: [{{name: http, containerPort: 8080}}]}}]}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: default-deny, namespace: {app}-prod}}
spec: {{podSelector: {{}}, policyTypes: [Ingress]}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: {app}-frontend-ingress, namespace: {app}-prod}}
spec:
  podSelector: {{matchLabels: {{app: {app}, tier: frontend}}}}
  ingress:
    - from: [{{ipBlock: {{cidr: 0.0.0.0/0, except: [10.0.0.0/8]}}}}]
      ports: [{{protocol: TCP, port: http}}]
"""
        )
        if app in PARTNERS:
            documents.append(
                f"""\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: allow-partner, namespace: {app}-prod}}
spec:
  podSelector: {{matchLabels: {{tier: frontend}}}}
  ingress:
    - from: [{{ipBlock: {{cidr: {PARTNERS[app]}}}}}]
      ports: [{{protocol: TCP, port: 443}}, {{protocol: TCP, port: 8443}}]
"""
            )
    return "---\n".join(documents)


SPEC = """\
manifests: [cluster.yaml]
invariants:
  - name: internet-never-reaches-prod-frontends
    forbid:
      from: {ip: 0.0.0.0/0}
      to: {namespace: {env: prod}, pod: {tier: frontend}}
"""


def test_a_rule_repeated_in_more_policies_than_one_fix_combines_is_edited_everywhere(
    tmp_path: Path,
) -> None:
    (tmp_path / "cluster.yaml").write_text(_cluster())
    (tmp_path / "spec.yaml").write_text(SPEC)
    raw = read_spec(str(tmp_path / "spec.yaml"))
    loaded = load_manifests(raw.manifest_paths, strict=False, clusters=raw.clusters)
    spec = resolve_spec(raw, loaded.cluster, SettingsSources())
    assert len(APPS) + len(PARTNERS) > MAX_DEPTH

    (entry,) = fix(loaded, spec, LIMITS).invariants
    assert entry.fixes, entry.reason
    smallest = entry.fixes[0]
    assert smallest.candidate.change is ChangeKind.REMOVE_RULE
    removed = {
        (edit.key.namespace, edit.key.name)
        for edit in smallest.candidate.edits
        if not edit.after.ingress
    }
    assert removed == {(f"{app}-prod", f"{app}-frontend-ingress") for app in APPS} | {
        (f"{app}-prod", "allow-partner") for app in PARTNERS
    }
    (result,) = prove(applied(loaded, smallest.candidate), spec, LIMITS).results
    assert result.status is Status.HOLDS
