"""The HEAD revision of the `diff` phase: a pull request of 20 changed policies (the planted
leak plus 19 realistic edits), the same on every run.
"""

import shutil
from pathlib import Path
from typing import Any

import yaml

from netverify.generate import MANIFEST_FILES
from netverify.generate.writer import dump_documents

POLICIES_FILE = "policies.yaml"
Policy = dict[str, Any]
DIFF_OTHER_CHANGES = 19
"""Policies changed besides the planted leak: a PR of 20 policies."""
ADDED_PORTS = (8443, 9443)
WIDENED_BY = 10


def _read_policies(folder: Path) -> list[Policy]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(folder / POLICIES_FILE, encoding="utf-8") as stream:
        return [document for document in yaml.load_all(stream, Loader=loader) if document]


def _policy_name(policy: Policy) -> str:
    return f"{policy['metadata']['namespace']}/{policy['metadata']['name']}"


def planted_leak(base: list[Policy], leak: list[Policy]) -> int:
    """The index of the one policy that the generator's `leak` changes, after checking that
    the change is exactly one added ingress rule; ValueError otherwise."""
    changed = [i for i, (a, b) in enumerate(zip(base, leak, strict=True)) if a != b]
    if len(changed) == 1:
        before, after = base[changed[0]], leak[changed[0]]
        rules = after["spec"].get("ingress", [])
        for index in range(len(rules)):
            without = {**after["spec"], "ingress": rules[:index] + rules[index + 1 :]}
            if {**after, "spec": without} == before:
                return changed[0]
    raise ValueError(f"the leak cluster is not BASE plus one ingress rule: {len(changed)} changed")


def _rules(policy: Policy) -> list[tuple[str, Policy]]:
    """(peer key, rule) for every ingress and egress rule."""
    spec = policy["spec"]
    return [("from", r) for r in spec.get("ingress", [])] + [
        ("to", r) for r in spec.get("egress", [])
    ]


def _widen_port(policy: Policy, _values: dict[str, list[str]]) -> str | None:
    """A numeric port becomes a range (`endPort` above `port`, as the API server requires)."""
    for _, rule in _rules(policy):
        for port in rule.get("ports", []):
            number = port.get("port")
            if isinstance(number, int) and "endPort" not in port and number + WIDENED_BY < 65536:
                port["endPort"] = number + WIDENED_BY
                return f"port {number} widened to {number}-{port['endPort']}"
    return None


def _add_port(policy: Policy, _values: dict[str, list[str]]) -> str | None:
    """A rule that lists ports admits one more."""
    for _, rule in _rules(policy):
        ports = rule.get("ports")
        if ports:
            taken = {port.get("port") for port in ports}
            number = next((n for n in ADDED_PORTS if n not in taken), None)
            if number is not None:
                ports.append({"protocol": "TCP", "port": number})
                return f"port TCP/{number} added"
    return None


def _change_label(policy: Policy, values: dict[str, list[str]]) -> str | None:
    """A peer's matchLabels value becomes another value that policies use for the key."""
    for peers, rule in _rules(policy):
        for peer in rule.get(peers, []):
            labels = (peer.get("podSelector") or {}).get("matchLabels") or {}
            for key in sorted(labels):
                choices = values.get(key, [])
                if len(choices) > 1:
                    old = labels[key]
                    labels[key] = choices[(choices.index(old) + 1) % len(choices)]
                    return f"peer {key}={old} changed to {labels[key]}"
    return None


CHANGES = (_widen_port, _add_port, _change_label)


def _peer_label_values(policies: list[Policy]) -> dict[str, list[str]]:
    """Every value that peers' podSelector matchLabels give each key, sorted."""
    values: dict[str, set[str]] = {}
    for policy in policies:
        for peers, rule in _rules(policy):
            for peer in rule.get(peers, []):
                labels = (peer.get("podSelector") or {}).get("matchLabels") or {}
                for key, value in labels.items():
                    values.setdefault(key, set()).add(value)
    return {key: sorted(found) for key, found in values.items()}


def write_diff_head(base: Path, leak: Path, head: Path) -> list[str]:
    """Write into `head` the manifests of `base` with the leak cluster's policies and
    `DIFF_OTHER_CHANGES` more policies changed (cycling through `CHANGES`, spread evenly over
    the file, the same on every run). Returns one line per changed policy."""
    policies = _read_policies(leak)
    leaked = planted_leak(_read_policies(base), policies)
    changed = {leaked: "planted leak: one ingress rule admitting env=dev"}
    values = _peer_label_values(policies)
    stride = max(1, len(policies) // DIFF_OTHER_CHANGES)
    for number in range(DIFF_OTHER_CHANGES):
        change = CHANGES[number % len(CHANGES)]
        for offset in range(len(policies)):
            index = (number * stride + offset) % len(policies)
            if index not in changed and (done := change(policies[index], values)):
                changed[index] = done
                break
    head.mkdir(parents=True, exist_ok=True)
    for name in MANIFEST_FILES:
        if name != POLICIES_FILE:
            shutil.copyfile(base / name, head / name)
    (head / POLICIES_FILE).write_text(dump_documents(policies), encoding="utf-8")
    return [f"{_policy_name(policies[i])}: {changed[i]}" for i in sorted(changed)]
