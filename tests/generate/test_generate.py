"""`netverify generate`: deterministic files that load cleanly, and verdicts known by
construction — dev -> prod isolation holds without `--leak` and is broken by the planted rule
with it (the issue's "done when")."""

from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netverify.cli.app import app
from netverify.engine import SolverLimits, prove
from netverify.generate import (
    ISOLATION,
    MANIFEST_FILES,
    SPEC_FILE,
    GeneratorOptions,
    WrittenCluster,
    generate_cluster,
    write_cluster,
)
from netverify.loading import load_manifests
from netverify.loading.spec import resolve_spec
from netverify.loading.specfile import read_spec
from netverify.model import Direction, ObjectRef, Report, RuleRef, Status

SMALL = GeneratorOptions(namespaces=6, pods=60, policies=30, seed=7)
MEDIUM = GeneratorOptions(namespaces=20, pods=1000, policies=200, seed=3)


def _files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def _prove(written: WrittenCluster) -> Report:
    raw = read_spec(str(written.spec))
    loaded = load_manifests(raw.manifest_paths, strict=True)
    return prove(loaded, resolve_spec(raw, loaded.cluster), SolverLimits())


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> WrittenCluster:
    return write_cluster(SMALL, tmp_path_factory.mktemp("small"))


@pytest.fixture(scope="module")
def small_leak(tmp_path_factory: pytest.TempPathFactory) -> WrittenCluster:
    options = GeneratorOptions(**{**SMALL.__dict__, "leak": True})
    return write_cluster(options, tmp_path_factory.mktemp("small-leak"))


def test_same_options_give_byte_identical_files(small: WrittenCluster, tmp_path: Path) -> None:
    again = write_cluster(SMALL, tmp_path)
    assert _files(again.folder) == _files(small.folder)
    assert set(_files(tmp_path)) == {*MANIFEST_FILES, SPEC_FILE}


def test_another_seed_gives_another_cluster(small: WrittenCluster, tmp_path: Path) -> None:
    other = write_cluster(GeneratorOptions(**{**SMALL.__dict__, "seed": 8}), tmp_path)
    for name in MANIFEST_FILES[1:]:
        assert (other.folder / name).read_bytes() != (small.folder / name).read_bytes()


def test_the_leak_is_one_extra_ingress_rule(small: WrittenCluster) -> None:
    plain = generate_cluster(SMALL)
    leaky = generate_cluster(GeneratorOptions(**{**SMALL.__dict__, "leak": True}))
    assert leaky.leak is not None and plain.leak is None
    assert plain.namespaces == leaky.namespaces
    assert plain.workloads == leaky.workloads and plain.pods == leaky.pods
    changed = [
        (before, after)
        for before, after in zip(plain.policies, leaky.policies, strict=True)
        if before != after
    ]
    assert len(changed) == 1
    before, after = changed[0]
    assert after["metadata"]["name"] == leaky.leak.policy
    assert after["spec"]["ingress"][:-1] == before["spec"].get("ingress", [])
    assert after["spec"]["ingress"][-1]["from"] == [
        {"namespaceSelector": {"matchLabels": {"env": "dev"}}}
    ]


def test_counts_match_the_options_and_load_without_warnings(small: WrittenCluster) -> None:
    loaded = load_manifests([str(small.folder / name) for name in MANIFEST_FILES], strict=True)
    assert loaded.warnings == ()
    cluster = loaded.cluster
    assert len(cluster.namespaces) == SMALL.namespaces
    assert all(namespace.defined for namespace in cluster.namespaces)
    assert len(cluster.pods) == SMALL.pods
    assert len(cluster.policies) == SMALL.policies
    kinds = Counter(pod.kind for pod in cluster.pods)
    assert kinds["Pod"] and kinds["Deployment"] and kinds["StatefulSet"]
    addresses = [ip for pod in cluster.pods for ip in pod.ips]
    assert len(addresses) == kinds["Pod"] == len(set(addresses))
    dns = [pod for pod in cluster.pods if pod.labels.get("k8s-app") == "kube-dns"]
    assert [pod.namespace for pod in dns] == ["kube-system"]
    assert {(p.name, p.port, p.protocol.value) for p in dns[0].ports} >= {
        ("dns", 53, "UDP"),
        ("dns-tcp", 53, "TCP"),
    }


def test_every_invariant_gets_its_documented_verdict(small: WrittenCluster) -> None:
    report = _prove(small)
    verdicts = {result.name: result.status for result in report.results}
    expected = {invariant.name: Status(invariant.expected) for invariant in small.invariants}
    assert verdicts == expected
    assert verdicts[ISOLATION] is Status.HOLDS
    assert Status.VIOLATED in verdicts.values()
    assert len(verdicts) >= 6


def test_the_leak_breaks_isolation_through_the_planted_rule(small_leak: WrittenCluster) -> None:
    report = _prove(small_leak)
    leak = small_leak.generated.leak
    assert leak is not None
    planted = RuleRef(
        policy=ObjectRef(kind="NetworkPolicy", namespace=leak.namespace, name=leak.policy),
        direction=Direction.INGRESS,
        index=leak.rule_index,
    )
    results = {result.name: result for result in report.results}
    for name in (ISOLATION, "dev-does-not-reach-prod-today"):
        result = results[name]
        assert result.status is Status.VIOLATED
        assert result.counterexample is not None
        decision = result.counterexample.decision
        assert decision.ingress.allowed_by == (planted,)
        assert (decision.flow.protocol.value, decision.flow.port) == ("TCP", leak.port)
    expected = {i.name: Status(i.expected) for i in small_leak.invariants}
    assert {name: r.status for name, r in results.items()} == expected


def test_generated_policies_use_every_feature_the_issue_lists() -> None:
    policies = generate_cluster(MEDIUM).policies
    text = repr(policies)
    for operator in ("'In'", "'NotIn'", "'Exists'", "'DoesNotExist'"):
        assert f"'operator': {operator}" in text
    for fragment in ("'endPort'", "'UDP'", "'SCTP'", "'except'", "'port': 'grpc'", "'port': 53"):
        assert fragment in text
    assert "'k8s-app': 'kube-dns'" in text


def test_prod_namespaces_are_isolated_by_construction() -> None:
    generated = generate_cluster(MEDIUM)
    for plan in generated.plans:
        if plan.env != "prod":
            continue
        assert "default-deny-ingress" in plan.policy_names
        for policy in plan.policies:
            for rule in policy["spec"].get("ingress", []):
                assert rule.get("from"), f"{policy['metadata']} admits every source"
                for peer in rule["from"]:
                    assert peer.get("namespaceSelector") != {}
                    block = peer.get("ipBlock")
                    if block is not None:
                        assert block["cidr"] != "10.0.0.0/8"
                        assert block["cidr"] != "0.0.0.0/0" or "10.0.0.0/8" in block["except"]


def test_cli_generate_writes_the_files(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            *("generate", "--namespaces", "5", "--pods", "20", "--policies", "10"),
            *("--seed", "1", "--out", str(tmp_path), "--leak"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "leak:" in result.stdout
    assert set(_files(tmp_path)) == {*MANIFEST_FILES, SPEC_FILE}


def test_cli_generate_refuses_impossible_options(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["generate", "--namespaces", "3", "--pods", "1", "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "--namespaces must be at least 4" in result.stderr
    assert not any(tmp_path.iterdir())
