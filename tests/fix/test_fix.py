"""`netverify fix`: every fix shown is proved, and applying its patch makes `prove` pass.

The clusters are small manifests written into `tmp_path`; the CLI runs from there, so the
patch paths are relative to it, as `git apply` run there expects.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import netverify.engine.fix.search as search_module
from netverify.cli.app import app
from netverify.encoding.solver import SolverLimits
from netverify.engine.fix import fix
from netverify.engine.fix.apply import composed
from netverify.engine.fix.candidates import candidates
from netverify.engine.prove import prove
from netverify.loading import load_manifests
from netverify.loading.settings import SettingsSources
from netverify.loading.spec import resolve_spec
from netverify.loading.specfile import read_spec
from netverify.model import LoadedCluster, LoadedSpec, Status
from netverify.model.diff import DiffReport
from netverify.model.fix import Candidate, ChangeKind, FixReport
from netverify.model.flow import Flow, PodEndpoint
from netverify.model.labels import Operator
from netverify.model.objects import NAMESPACE_NAME_LABEL
from netverify.model.policy import Direction
from netverify.report.fix import format_fix
from netverify.report.formats import FixFormat

REPO = Path(__file__).resolve().parents[2]
LIMITS = SolverLimits(timeout_seconds=30, rlimit=10**8)

NAMESPACES_AND_PODS = """\
apiVersion: v1
kind: Namespace
metadata: {name: a}
---
apiVersion: v1
kind: Namespace
metadata: {name: b}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: a, labels: {app: client}}
spec: {containers: [{name: c, image: x}]}
---
apiVersion: v1
kind: Pod
metadata: {name: other, namespace: a, labels: {app: other}}
spec: {containers: [{name: c, image: x}]}
---
apiVersion: v1
kind: Pod
metadata: {name: server, namespace: b, labels: {app: server}}
spec: {containers: [{name: c, image: x, ports: [{name: http, containerPort: 8080}]}]}
"""

DEFAULT_DENY = """\
# Nothing gets into b.
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: b}
spec:
  podSelector: {}
  policyTypes: [Ingress]
"""

FROM_EVERY_NAMESPACE = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-everywhere, namespace: b}
spec:
  podSelector:
    matchLabels: {app: server}
  ingress:
    - from:
        - namespaceSelector: {}
      ports:
        - {protocol: TCP, port: 8080}
"""

REQUIRE_A = """\
manifests: [cluster.yaml, policies.yaml]
invariants:
  - name: a-reaches-server
    require:
      from: {namespace: a}
      to: {pod: b/server}
      ports: ["8080/TCP"]
"""

KEEP_OTHER = """\
  - name: other-reaches-server
    reachable:
      from: {pod: a/other}
      to: {pod: b/server}
      ports: ["8080/TCP"]
"""

FORBID_CLIENT = """\
manifests: [cluster.yaml, policies.yaml]
invariants:
  - name: client-never-reaches-server
    forbid:
      from: {pod: a/client}
      to: {pod: b/server}
"""

FORBID_CLIENT_KEEP_OTHER = FORBID_CLIENT + KEEP_OTHER

FORBID_EVERYTHING_KEEP_OTHER = f"""\
manifests: [cluster.yaml, policies.yaml]
invariants:
  - name: nothing-reaches-server
    forbid:
      to: {{pod: b/server}}
{KEEP_OTHER}"""


DENY_ALL_IN_A = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: a}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
"""

REQUIRE_CLIENT_TO_OTHER = """\
manifests: [cluster.yaml, policies.yaml]
invariants:
  - name: client-reaches-other
    require:
      from: {pod: a/client}
      to: {pod: a/other}
      ports: ["8080/TCP"]
"""


def _write(folder: Path, policies: str, spec: str) -> Path:
    (folder / "cluster.yaml").write_text(NAMESPACES_AND_PODS)
    (folder / "policies.yaml").write_text(policies)
    (folder / "spec.yaml").write_text(spec)
    return folder / "spec.yaml"


def _load(spec_path: Path) -> tuple[LoadedCluster, LoadedSpec]:
    raw = read_spec(str(spec_path))
    loaded = load_manifests(raw.manifest_paths, strict=False, clusters=raw.clusters)
    return loaded, resolve_spec(raw, loaded.cluster, SettingsSources())


def _fix(spec_path: Path) -> FixReport:
    return fix(*_load(spec_path), LIMITS)


def _first_candidates(spec_path: Path) -> tuple[LoadedCluster, Flow, list[Candidate]]:
    """The counterexample of the spec's first invariant, which must be violated, and the
    candidates read off it."""
    loaded, loaded_spec = _load(spec_path)
    violated = prove(loaded, loaded_spec, LIMITS).results[0]
    assert violated.status is Status.VIOLATED and violated.counterexample is not None
    proposed = candidates(
        loaded.cluster,
        loaded_spec.spec.invariants[0],
        violated.counterexample.decision,
        loaded_spec.spec.invariants,
    )
    return loaded, violated.counterexample.decision.flow, proposed


def _apply_patch(folder: Path, spec: str) -> None:
    """`netverify fix --format patch` run in `folder`, then `git apply` there."""
    result = CliRunner().invoke(app, ["fix", spec, "--format", "patch"])
    assert result.exit_code == 0, result.output
    assert "every invariant holds (proved)" in result.stdout
    (folder / "fix.patch").write_text(result.stdout)
    subprocess.run(["git", "apply", "fix.patch"], cwd=folder, check=True)


def _prove_exit(spec: str) -> int:
    return CliRunner().invoke(app, ["prove", spec]).exit_code


def test_the_blog_example_gets_a_proved_fix_that_makes_prove_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(REPO / "examples" / "blog", tmp_path / "examples" / "blog")
    shutil.copytree(REPO / "specs", tmp_path / "specs")
    monkeypatch.chdir(tmp_path)
    assert _prove_exit("specs/isolation.yaml") == 1
    text = CliRunner().invoke(app, ["fix", "specs/isolation.yaml"])
    assert text.exit_code == 0, text.output
    assert "qa-reaches-pod2-from-any-pod" in text.stdout
    assert "examples/blog/policy.yaml:2" in text.stdout
    assert "proved: qa-reaches-pod2-from-any-pod now holds; other invariants unchanged" in (
        text.stdout
    )
    _apply_patch(tmp_path, "specs/isolation.yaml")
    assert _prove_exit("specs/isolation.yaml") == 0


def test_a_require_blocked_by_a_default_deny_gets_an_allow_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = _write(tmp_path, DEFAULT_DENY, REQUIRE_A)
    report = _fix(spec)
    (entry,) = report.invariants
    best = entry.fixes[0]
    assert best.candidate.change is ChangeKind.ADD_RULE
    (edit,) = best.candidate.edits
    assert edit.before is not None and edit.after.name == "default-deny"
    (rule,) = edit.after.ingress
    (peer,) = rule.peers
    assert peer.namespace_selector is not None
    assert peer.namespace_selector.match_labels == {NAMESPACE_NAME_LABEL: "a"}
    assert [(p.protocol.value, p.port_range) for p in rule.ports] == [
        ("TCP", rule.ports[0].port_range)
    ]
    assert rule.ports[0].port_range is not None and rule.ports[0].port_range.start == 8080
    monkeypatch.chdir(tmp_path)
    _apply_patch(tmp_path, "spec.yaml")
    assert (tmp_path / "policies.yaml").read_text().startswith("# Nothing gets into b.\n")
    assert _prove_exit("spec.yaml") == 0


def test_a_policy_blocking_both_ends_gains_both_rules_in_one_edit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """deny-all blocks the client's egress and the other pod's ingress: the fix adds a rule
    to each direction of that one policy (two edits of it would make two policies of one
    name: the proof and the patch would disagree)."""
    spec = _write(tmp_path, DENY_ALL_IN_A, REQUIRE_CLIENT_TO_OTHER)
    (entry,) = _fix(spec).invariants
    best = entry.fixes[0].candidate
    assert best.change is ChangeKind.ADD_RULE
    (edit,) = best.edits
    assert edit.after.name == "deny-all"
    assert len(edit.after.ingress) == len(edit.after.egress) == 1
    assert best.why == "a/deny-all ingress and egress admits exactly the required flows"
    assert all(
        len({e.key for e in fix.candidate.edits}) == len(fix.candidate.edits) for fix in entry.fixes
    )
    monkeypatch.chdir(tmp_path)
    _apply_patch(tmp_path, "spec.yaml")
    assert _prove_exit("spec.yaml") == 0


def test_a_candidate_that_breaks_another_invariant_is_rejected(tmp_path: Path) -> None:
    spec = _write(tmp_path, FROM_EVERY_NAMESPACE, FORBID_CLIENT_KEEP_OTHER)
    loaded, loaded_spec = _load(spec)
    before = prove(loaded, loaded_spec, LIMITS).results
    assert [r.status for r in before] == [Status.VIOLATED, Status.HOLDS]
    assert before[0].counterexample is not None
    proposed = candidates(
        loaded.cluster,
        loaded_spec.spec.invariants[0],
        before[0].counterexample.decision,
        loaded_spec.spec.invariants,
    )
    assert any(_excludes_namespace_a(c) for c in proposed), "proposed, though it breaks the other"

    report = fix(loaded, loaded_spec, LIMITS)
    shown = [fix.candidate for entry in report.invariants for fix in entry.fixes]
    assert shown and not any(_excludes_namespace_a(c) for c in shown)
    narrowed = shown[0].edits[0].after.ingress[0].peers[0]
    assert narrowed.pod_selector is not None
    (requirement,) = narrowed.pod_selector.match_expressions
    assert (requirement.key, requirement.operator, requirement.values) == (
        "app",
        Operator.NOT_IN,
        ("client",),
    )


def _excludes_namespace_a(candidate: Candidate) -> bool:
    """Whether the candidate narrows `from-everywhere` to every namespace but a."""
    return any(
        requirement.key == NAMESPACE_NAME_LABEL and requirement.values == ("a",)
        for edit in candidate.edits
        if edit.after.name == "from-everywhere"
        for rule in edit.after.ingress
        for peer in rule.peers
        if peer.namespace_selector is not None
        for requirement in peer.namespace_selector.match_expressions
    )


def test_no_provable_fix_exits_1_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path, FROM_EVERY_NAMESPACE, FORBID_EVERYTHING_KEEP_OTHER)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["fix", "spec.yaml"])
    assert result.exit_code == 1
    assert "nothing-reaches-server: no proved fix" in result.stdout


def test_json_lists_each_fix_with_its_patch_and_flow_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path, FROM_EVERY_NAMESPACE, FORBID_CLIENT_KEEP_OTHER)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["fix", "spec.yaml", "--format", "json"])
    assert result.exit_code == 0, result.output
    (spec,) = json.loads(result.stdout)["specs"]
    first = spec["invariants"][0]["fixes"][0]
    assert first["invariant"] == "client-never-reaches-server"
    assert first["change"] == "narrow-peer"
    assert first["policies"][0] == {
        "kind": "NetworkPolicy",
        "namespace": "b",
        "name": "from-everywhere",
        "new": False,
        "direction": "Ingress",
        "rule": 0,
    }
    assert first["flows_changed"] == 1
    assert "+++ b/policies.yaml" in first["patch"]


def test_a_missing_spec_is_an_input_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["fix", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 2


def test_the_planted_leak_is_fixed_and_the_patch_makes_prove_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    generate = ["generate", "--out", "leak", "--namespaces", "6", "--pods", "40"]
    result = CliRunner().invoke(app, [*generate, "--policies", "12", "--leak"])
    assert result.exit_code == 0, result.output
    assert _prove_exit("leak/spec.yaml") == 1
    report = _fix(tmp_path / "leak" / "spec.yaml")
    best = report.invariants[0].fixes[0]
    assert best.candidate.change is ChangeKind.REMOVE_RULE
    assert best.candidate.edits[0].after.name == "cart-backend-ingress"
    _apply_patch(tmp_path, "leak/spec.yaml")
    assert _prove_exit("leak/spec.yaml") == 0


FORBID_CLIENT_REQUIRE_DB = (
    FORBID_CLIENT
    + """\
  - name: other-reaches-db
    require:
      from: {pod: a/other}
      to: {namespace: b, pod: {app: db}}
      ports: ["5432/TCP"]
"""
)


def test_an_isolating_policy_admits_only_requires_about_the_pods_it_selects(
    tmp_path: Path,
) -> None:
    """Found on kube-prometheus: isolating the grafana pods also admitted the spec's
    `grafana -> prometheus` require, a rule no grafana pod needs."""
    _, _, proposed = _first_candidates(_write(tmp_path, "", FORBID_CLIENT_REQUIRE_DB))
    isolating = [c for c in proposed if "only what the spec requires" in c.why]
    assert isolating, [c.why for c in proposed]
    isolated = {}
    for candidate in isolating:
        (edit,) = candidate.edits
        isolated[edit.direction] = edit.after.pod_selector.match_labels
        assert edit.after.rules(edit.direction) == (), candidate.why
    assert isolated == {Direction.INGRESS: {"app": "server"}, Direction.EGRESS: {"app": "client"}}


FROM_CLIENT_TO_LABELLED_SERVERS = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-client, namespace: b}
spec:
  podSelector:
    matchLabels: {app: server, tier: web}
  ingress:
    - from:
        - namespaceSelector: {}
          podSelector:
            matchLabels: {app: client}
"""

FORBID_CLIENT_TO_ANY_SERVER = """\
manifests: [cluster.yaml, policies.yaml]
invariants:
  - name: client-never-reaches-servers
    pods: any
    forbid:
      from: {namespace: a, pod: {app: client}}
      to: {namespace: b, pod: {app: server}}
"""


def test_text_names_a_removed_rule_and_a_new_policy_each_by_what_happens_to_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A removal that also needs an isolating policy (new server pods without `tier: web`
    are not selected) said "removes from" of the new policy too, and "1 flows"."""
    cluster = NAMESPACES_AND_PODS.replace(
        "labels: {app: server}", "labels: {app: server, tier: web}"
    )
    spec = _write(tmp_path, FROM_CLIENT_TO_LABELLED_SERVERS, FORBID_CLIENT_TO_ANY_SERVER)
    (tmp_path / "cluster.yaml").write_text(cluster)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["fix", spec.name])
    assert result.exit_code == 0, result.output
    fixes = re.split(r"\n  (?=\d+\. )", result.stdout)
    removal = next(block for block in fixes if ". remove-rule" in block)
    assert "removes from b/from-client ingress[0]" in removal
    assert "new policy b/isolate-client-never-reaches-servers" in removal
    assert "removes from b/isolate" not in removal
    assert "(1 diff finding)" in removal


FORBID_NEW_NAMESPACES = """\
manifests: [cluster.yaml, policies.yaml]
invariants:
  - name: nothing-outside-reaches-server
    namespaces: any
    forbid:
      from:
        namespace:
          matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn, values: [a, b]}]
      to: {pod: b/server}
"""


def test_no_policy_is_written_into_a_namespace_that_does_not_exist(tmp_path: Path) -> None:
    """The witness's source is a pod of a namespace that could be created, named by a
    stand-in; isolating its egress in that name (kube-prometheus: `other/isolate-...`) would
    govern nothing."""
    loaded, flow, proposed = _first_candidates(_write(tmp_path, "", FORBID_NEW_NAMESPACES))
    assert isinstance(flow.source, PodEndpoint)
    assert loaded.cluster.namespace(flow.source.namespace.name) is None
    assert proposed
    namespaces = {edit.key.namespace for c in proposed for edit in c.edits}
    assert namespaces == {"b"}


FORBID_EVERYTHING_ON_8080 = """\
manifests: [cluster.yaml, policies.yaml]
invariants:
  - name: nothing-reaches-server-8080
    pods: any
    namespaces: any
    forbid:
      to: {namespace: b, pod: {app: server}}
      ports: ["8080/TCP"]
"""


def test_a_rule_that_cannot_be_narrowed_is_removed(tmp_path: Path) -> None:
    """Found on argo-cd's install.yaml (dex's metrics port open to every namespace, forbid
    of everything on it): no peer exclusion and no port left to keep, and no fix was
    proposed at all."""
    report = _fix(_write(tmp_path, FROM_EVERY_NAMESPACE, FORBID_EVERYTHING_ON_8080))
    (entry,) = report.invariants
    assert entry.fixes, entry.reason
    first = entry.fixes[0].candidate
    assert first.change is ChangeKind.REMOVE_RULE
    (edit,) = first.edits
    assert edit.key.name == "from-everywhere" and edit.after.ingress == ()


SERVER_METRICS_ONLY = FROM_EVERY_NAMESPACE.replace("port: 8080", "port: 9101")

CLIENT_NEVER_OTHER_REACHES = (
    FORBID_CLIENT
    + """\
  - name: other-reaches-server
    require:
      from: {pod: a/other}
      to: {pod: b/server}
      ports: ["8080/TCP"]
"""
)


def test_two_fixes_of_one_policy_in_different_rules_are_one_patch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found on argo-cd's install.yaml: a forbid narrows the metrics rule of a policy and a
    require adds a rule to it; the patch left the forbid's fix out ("its fix edits a policy
    another fix edits"). The edits touch different rules, so the patch carries both, proved
    together, and the patched files prove."""
    spec = _write(tmp_path, SERVER_METRICS_ONLY, CLIENT_NEVER_OTHER_REACHES)
    report = _fix(spec)
    assert [len(entry.fixes) > 0 for entry in report.invariants] == [True, True]
    assert report.left_out == () and report.together_holds
    (patch,) = report.patches
    assert patch.path.endswith("policies.yaml")
    monkeypatch.chdir(tmp_path)
    subprocess.run(["git", "init", "-q"], check=True)
    _apply_patch(tmp_path, "spec.yaml")
    assert _prove_exit("spec.yaml") == 0


FROM_SERVERS_AND_TEAM_A = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-servers-and-team-a, namespace: b}
spec:
  podSelector:
    matchLabels: {app: server}
  ingress:
    - from:
        - podSelector:
            matchLabels: {app: server}
        - namespaceSelector:
            matchLabels: {team: a}
      ports:
        - {protocol: TCP, port: 8080}
"""


def test_a_peer_that_admits_only_the_forbidden_namespace_goes_rather_than_narrows(
    tmp_path: Path,
) -> None:
    """Found on the Calico stars demo with a planted extra peer: a peer whose selector
    (team=a) selects, of the existing namespaces, only the forbidden one was narrowed to
    `team=a` less the namespace `a`, which selects nothing; a person drops the peer."""
    spec = FORBID_CLIENT.replace("from: {pod: a/client}", "from: {namespace: a}")
    spec_path = _write(tmp_path, FROM_SERVERS_AND_TEAM_A, spec)
    (tmp_path / "cluster.yaml").write_text(
        NAMESPACES_AND_PODS.replace("metadata: {name: a}", "metadata: {name: a, labels: {team: a}}")
    )
    report = _fix(spec_path)
    (entry,) = report.invariants
    first = entry.fixes[0].candidate
    assert first.change is ChangeKind.NARROW_PEER
    (edit,) = first.edits
    (rule,) = edit.after.ingress
    assert [peer.namespace_selector for peer in rule.peers] == [
        edit.before.ingress[0].peers[0].namespace_selector
    ]


ONLY_OTHER_REACHES_SERVER = (
    FORBID_CLIENT
    + """\
  - name: only-other-reaches-server
    forbid:
      from:
        pod: {matchExpressions: [{key: app, operator: NotIn, values: [other]}]}
      to: {pod: b/server}
"""
)


def test_a_later_wider_fix_covers_an_earlier_one_that_edits_the_same_rule(
    tmp_path: Path,
) -> None:
    """Found on Online Boutique (paymentservice opened to every pod; loadgenerator must not
    reach it, and only checkoutservice may): the two smallest fixes narrow one rule, the
    first (not client) was kept and the second (only other) left out, so the union did not
    hold. Taken the other way round, the second alone makes both hold."""
    report = _fix(_write(tmp_path, FROM_EVERY_NAMESPACE, ONLY_OTHER_REACHES_SERVER))
    assert [entry.invariant for entry in report.invariants if entry.fixes] == [
        "client-never-reaches-server",
        "only-other-reaches-server",
    ]
    wider = report.invariants[1].fixes[0].candidate
    assert "now admits only app in {other}" in wider.why
    assert report.left_out == () and report.together_holds
    (patch,) = report.patches
    assert "matchLabels:\n              app: other" in patch.patched
    assert "matchExpressions" not in patch.patched


def test_a_candidate_two_invariants_share_is_counted_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both forbids are violated through one rule, whose narrowing repairs both (and is
    the smallest fix of each): the diff counts the flows that cluster changes once, and
    both fixes show the count."""
    spec = FORBID_CLIENT + FORBID_CLIENT.split("invariants:\n")[1].replace(
        "client-never-reaches-server", "client-never-reaches-server-again"
    )
    spec_path = _write(tmp_path, FROM_EVERY_NAMESPACE, spec)
    counted: list[str] = []
    count = search_module.changed_flows

    def counting(base: LoadedCluster, head: LoadedCluster, *rest: Any) -> DiffReport:
        counted.append(head.cluster.model_dump_json())
        return count(base, head, *rest)

    monkeypatch.setattr(search_module, "changed_flows", counting)
    report = _fix(spec_path)
    first, second = (entry.fixes[0] for entry in report.invariants)
    assert first.candidate.edits == second.candidate.edits
    assert first.flows_changed == second.flows_changed
    assert len(counted) == len(set(counted))


FROM_MONITOR = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: monitor-access, namespace: b}
spec:
  podSelector: {}
  ingress:
    - from:
        - podSelector:
            matchLabels: {app: monitor}
        - podSelector:
            matchLabels: {app: server}
"""

ONLY_OTHER_REACHES_SERVER_ALONE = """\
manifests: [cluster.yaml, policies.yaml]
invariants:
  - name: only-other-reaches-server
    forbid:
      from:
        pod: {matchExpressions: [{key: app, operator: NotIn, values: [other]}]}
      to: {pod: b/server}
"""


def test_a_peer_narrowed_to_a_contradiction_goes_rather_than_narrows(tmp_path: Path) -> None:
    """Found on sock-shop: cortex-access admits `name=cortex` (no such pod yet) to every pod,
    against "only front-end reaches catalogue". The peer narrowed to `name=cortex` and
    `name in {front-end}` selects nothing, yet read "now admits only name in {front-end}";
    a person drops the peer (here both peers, app=server too, so the rule goes)."""
    report = _fix(_write(tmp_path, FROM_MONITOR, ONLY_OTHER_REACHES_SERVER_ALONE))
    (entry,) = report.invariants
    whys = [fix.candidate.why for fix in entry.fixes]
    assert not any("now admits only app in {other}" in why for why in whys), whys
    first = entry.fixes[0].candidate
    assert first.why.startswith("drops the peer that admits just app not in {other}"), whys
    (edit,) = first.edits
    assert edit.after.ingress == ()


FROM_MONITOR_AND_PROBE = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: monitor-access, namespace: b}
spec:
  podSelector: {}
  ingress:
    - from:
        - podSelector:
            matchLabels: {app: monitor}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: probe-access, namespace: b}
spec:
  podSelector: {}
  ingress:
    - from:
        - podSelector:
            matchLabels: {app: probe}
"""


def test_a_fix_of_two_policies_says_which_policy_each_repair_edits(tmp_path: Path) -> None:
    """Found on sock-shop: removing cortex-access's rule and carts-db-access's read 'removes
    the rule, whose only peer admits just name not in {carts}; and removes the rule, whose
    only peer admits just name not in {carts}', the two policies nowhere in the sentence."""
    report = _fix(_write(tmp_path, FROM_MONITOR_AND_PROBE, ONLY_OTHER_REACHES_SERVER_ALONE))
    (entry,) = report.invariants
    both = next(fix.candidate for fix in entry.fixes if len(fix.candidate.edits) == 2)
    removal = "removes the rule, whose only peer admits just app not in {other}"
    assert both.why == f"{removal} (b/monitor-access); and {removal} (b/probe-access)"


def test_a_why_names_at_most_three_policies_of_each_repair(tmp_path: Path) -> None:
    """A rule repaired in every policy with a rule like it edits dozens (90 on Large with the
    planted leak): the why named them all in one line; the fix's own lines name each."""
    report = _fix(_write(tmp_path, FROM_MONITOR_AND_PROBE, ONLY_OTHER_REACHES_SERVER_ALONE))
    (entry,) = report.invariants
    both = next(fix.candidate for fix in entry.fixes if len(fix.candidate.edits) == 2)
    first, then = (
        both.model_copy(
            update={
                "why": "repairs",
                "edits": tuple(
                    edit.model_copy(
                        update={
                            "before": None,
                            "after": edit.after.model_copy(update={"name": f"{name}-{i}"}),
                        }
                    )
                    for i in range(count)
                ),
            }
        )
        for edit, name, count in ((both.edits[0], "a", 5), (both.edits[1], "b", 3))
    )
    assert composed(first, then).why == (
        "repairs (b/a-0, b/a-1, b/a-2 and 2 more); and repairs (b/b-0, b/b-1, b/b-2)"
    )


@pytest.mark.parametrize(
    ("flows", "external", "counted_all", "line"),
    [
        (0, 428, False, "at least 428 flows between existing pods and external addresses changed"),
        (0, 1, True, "1 flow between existing pods and external addresses changed"),
        (7, 12, True, "7 flows between existing pods changed, 12 between existing pods and"),
        (0, 0, True, "0 flows between existing pods changed (3 diff findings)"),
    ],
)
def test_a_fix_says_which_flows_it_changes(
    tmp_path: Path, flows: int, external: int, counted_all: bool, line: str
) -> None:
    """Found on Large with the planted leak: a fix that only closes flows from external
    addresses read 'at least 0 flows between existing pods changed, at least 488 between
    existing pods and external addresses'."""
    report = _fix(_write(tmp_path, FROM_MONITOR_AND_PROBE, ONLY_OTHER_REACHES_SERVER_ALONE))
    (entry,) = report.invariants
    shown = entry.fixes[0].model_copy(
        update={
            "flows_changed": flows,
            "external_flows": external,
            "counted_all": counted_all,
            "findings": 3,
        }
    )
    changed = report.model_copy(
        update={"invariants": (entry.model_copy(update={"fixes": (shown,)}),)}
    )
    assert f"     {line}" in format_fix([changed], FixFormat.TEXT)
