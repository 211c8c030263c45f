"""One settings source for every command (docs/settings.md): finding `netverify.yaml`, its
errors, the precedence of the sources, and CNI profiles on every command."""

import json
from ipaddress import ip_network
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netverify.cli.app import app
from netverify.loading.settings import (
    CONFIG_NAME,
    SettingsFlags,
    find_config,
    settings_sources,
)
from netverify.model import InputError, Settings
from netverify.model.profiles import DEFAULT_PROFILE, PROFILES

MANIFESTS = """\
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: default, labels: {app: client}}
status: {podIP: 10.0.0.5}
---
apiVersion: v1
kind: Pod
metadata: {name: server, namespace: default, labels: {app: server}}
spec: {containers: [{name: web, ports: [{containerPort: 80}]}]}
status: {podIP: 10.0.1.5}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-client-subnet, namespace: default}
spec:
  podSelector: {matchLabels: {app: server}}
  ingress:
  - from: [{ipBlock: {cidr: 10.0.0.0/24}}]
"""
"""The client reaches the server only through an ipBlock over its pod IP: allowed upstream,
blocked under Cilium."""

SPEC = """\
manifests: [manifests.yaml]
invariants:
- name: client-reaches-server
  require: {from: {pod: {app: client}}, to: {pod: {app: server}}, ports: [80]}
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository (it has `.git`) holding the manifests and a spec; the working directory."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "manifests.yaml").write_text(MANIFESTS)
    (tmp_path / "spec.yaml").write_text(SPEC)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def resolved(repo: Path, **flags: object) -> Settings:
    return settings_sources(SettingsFlags(**flags), repo).settings()  # type: ignore[arg-type]


def test_config_is_found_upwards_but_not_above_the_repository(tmp_path: Path) -> None:
    outer = tmp_path / CONFIG_NAME
    outer.write_text("profile: cilium\n")
    repo = tmp_path / "repo"
    deep = repo / "a" / "b"
    deep.mkdir(parents=True)
    assert find_config(deep) == outer
    (repo / ".git").mkdir()
    assert find_config(deep) is None
    (repo / "a" / CONFIG_NAME).write_text("{}\n")
    assert find_config(deep) == repo / "a" / CONFIG_NAME


def test_precedence_defaults_profile_config_flags_spec(repo: Path) -> None:
    cidr, other = ip_network("10.244.0.0/16"), ip_network("10.8.0.0/16")
    assert resolved(repo) == Settings()
    (repo / CONFIG_NAME).write_text("profile: cilium\n")
    assert resolved(repo) == PROFILES["cilium"].settings
    (repo / CONFIG_NAME).write_text(
        "profile: cilium\nipBlockMatchesPods: true\npodCIDRs: [10.244.0.0/16]\n"
    )
    assert resolved(repo) == Settings(ip_block_matches_pods=True, pod_cidrs=(cidr,))
    assert resolved(repo, pod_cidrs=("10.8.0.0/16",)).pod_cidrs == (other,)
    assert resolved(repo, no_config=True) == Settings()
    (repo / CONFIG_NAME).write_text("podCIDRs: [10.244.0.0/16]\n")
    assert resolved(repo, profile="cilium") == Settings(
        ip_block_matches_pods=False, pod_cidrs=(cidr,)
    )
    (repo / "spec.yaml").write_text(SPEC + "settings: {ipBlockMatchesPods: true}\n")
    runner = CliRunner()
    result = runner.invoke(app, ["prove", "spec.yaml", "--profile", "cilium", "-f", "json"])
    assert result.exit_code == 0, result.output  # the spec's settings win over the profile


def test_config_errors_name_file_and_line(repo: Path) -> None:
    (repo / CONFIG_NAME).write_text(
        "profile: cillium\nipBlockMatchesPod: false\npodCIDRs: [10.0.0.0/33]\n"
    )
    with pytest.raises(InputError) as caught:
        settings_sources(SettingsFlags(), repo)
    assert [str(d) for d in caught.value.diagnostics] == [
        f'{CONFIG_NAME}:1: error: profile: unknown profile "cillium"; did you mean "cilium"? '
        f"(profiles: {', '.join(PROFILES)})",
        f'{CONFIG_NAME}:2: error: ipBlockMatchesPod: unknown key "ipBlockMatchesPod"; did you '
        'mean "ipBlockMatchesPods"? (keys: profile, ipBlockMatchesPods, podCIDRs)',
        f"{CONFIG_NAME}:3: error: podCIDRs[0]: " + str(settings_error("10.0.0.0/33")),
    ]
    result = CliRunner().invoke(app, ["matrix", "manifests.yaml"])
    assert result.exit_code == 2
    assert f"{CONFIG_NAME}:1: error: profile:" in result.stderr


def settings_error(text: str) -> str | None:
    from netverify.loading.validation import cidr_error

    return cidr_error(text)


def test_unknown_profile_flag_is_an_input_error(repo: Path) -> None:
    result = CliRunner().invoke(app, ["lint", "manifests.yaml", "--profile", "Cilium"])
    assert result.exit_code == 2
    assert '--profile \'Cilium\': unknown profile "Cilium"; did you mean "cilium"?' in (
        result.stderr
    )


def test_every_command_honours_the_profile(repo: Path) -> None:
    runner = CliRunner()
    flow = ["--from", "default/client", "--to", "default/server", "--port", "80"]
    for profile, verdict in ((DEFAULT_PROFILE, 0), ("cilium", 1)):
        explain = runner.invoke(app, ["explain", "manifests.yaml", *flow, "--profile", profile])
        assert explain.exit_code == verdict, explain.output
        prove = runner.invoke(app, ["prove", "spec.yaml", "--profile", profile])
        assert prove.exit_code == verdict, prove.output
        matrix = runner.invoke(
            app, ["matrix", "manifests.yaml", "--profile", profile, "-f", "json"]
        )
        cells = json.loads(matrix.stdout)["cells"]
        cell = next(
            c for c in cells if c["from"] == "default/client" and c["to"] == "default/server"
        )
        assert cell["allowed"] is (verdict == 0)
    (repo / CONFIG_NAME).write_text("profile: cilium\n")
    assert runner.invoke(app, ["explain", "manifests.yaml", *flow]).exit_code == 1
    assert runner.invoke(app, ["explain", "manifests.yaml", *flow, "--no-config"]).exit_code == 0


def test_prove_all_profiles_names_where_an_invariant_fails(repo: Path) -> None:
    runner = CliRunner()
    text = runner.invoke(app, ["prove", "spec.yaml", "--all-profiles"])
    assert text.exit_code == 1, text.output
    others = ", ".join(name for name in PROFILES if name != "cilium")
    assert f"  holds under {others}; violated under cilium\n" in text.stdout
    document = json.loads(
        runner.invoke(app, ["prove", "spec.yaml", "--all-profiles", "-f", "json"]).stdout
    )
    [result] = document["results"]
    assert result["status"] == "violated"
    assert result["profiles"] == {
        name: "violated" if name == "cilium" else "holds" for name in PROFILES
    }
    plain = json.loads(runner.invoke(app, ["prove", "spec.yaml", "-f", "json"]).stdout)
    assert "profiles" not in plain["results"][0]


def test_a_spec_named_netverify_yaml_is_not_a_settings_file(repo: Path) -> None:
    (repo / CONFIG_NAME).write_text(SPEC)
    assert resolved(repo) == Settings()
    with pytest.raises(InputError):
        resolved(repo, config=CONFIG_NAME)
