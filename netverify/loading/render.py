"""Model -> manifest: NetworkPolicies written back as Kubernetes YAML, for `netverify fix`.

The inverse of `networkpolicy.read_network_policy` on what the model keeps: a policy read
back from its rendering is the same policy.
"""

from itertools import pairwise
from typing import Any

import yaml

from netverify.loading.networkpolicy import default_policy_types
from netverify.loading.yamlloaders import FastLoader, fast_path_is_safe
from netverify.model.labels import LabelSelector
from netverify.model.policy import Direction, NetworkPolicy, PolicyPeer, PolicyPort, PolicyRule

_PEERS_KEY = {Direction.INGRESS: "from", Direction.EGRESS: "to"}


def policy_manifest(policy: NetworkPolicy) -> dict[str, Any]:
    """A whole NetworkPolicy object, as `kubectl apply` takes it."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": policy.name, "namespace": policy.namespace},
        "spec": policy_spec(policy),
    }


def policy_spec(policy: NetworkPolicy) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "podSelector": selector_manifest(policy.pod_selector),
        "policyTypes": [d.value for d in Direction if d in policy.policy_types],
    }
    for direction in Direction:
        if direction in policy.policy_types and policy.rules(direction):
            spec[direction.value.lower()] = [
                _rule(rule, _PEERS_KEY[direction]) for rule in policy.rules(direction)
            ]
    return spec


class _IndentedDumper(yaml.SafeDumper):
    """Lists indented under their key (`ingress:` then `  - from:`), as `kubectl` writes
    them and as most manifests are written."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def dump_yaml(document: dict[str, Any], indent_lists: bool = True) -> str:
    """Block style, keys in the order built; lists indented under their key unless
    `indent_lists` is False (`ingress:` then `- from:` at the same column)."""
    dumper = _IndentedDumper if indent_lists else yaml.SafeDumper
    text: str = yaml.dump(
        document, Dumper=dumper, sort_keys=False, default_flow_style=False, width=100
    )
    return text


def with_spec_replaced(document: str, policy: NetworkPolicy) -> str | None:
    """One YAML document's text with its `spec` replaced by the policy's: the text of every
    other field kept as written (quotes, flow style, comments) where the spec is a block of
    its own (`spec:` at the start of a line), else the document written anew but for its
    leading comment lines; comments inside the spec are lost. None when the document is not
    this NetworkPolicy (a List, say)."""
    parsed = _parsed(document)
    metadata = parsed.get("metadata") if isinstance(parsed, dict) else None
    if not isinstance(metadata, dict) or parsed.get("kind") != "NetworkPolicy":
        return None
    if metadata.get("name") != policy.name:
        return None
    parsed["spec"] = _without_implied_types(
        parsed.get("spec"), as_written(parsed.get("spec"), policy_spec(policy))
    )
    lines = document.splitlines(keepends=True)
    indent_lists = not _indentless(lines)
    block = _spec_block(lines)
    if block is not None:
        start, end = block
        spec = dump_yaml({"spec": parsed["spec"]}, indent_lists=indent_lists)
        kept = "".join(lines[:start]) + spec + "".join(lines[end:])
        if _parsed(kept) == parsed:
            return kept
    leading = "".join(line for line in _leading_comments(lines))
    return leading + dump_yaml(parsed, indent_lists=indent_lists)


def _parsed(document: str) -> Any:
    """The document's data, by libyaml where that is safe (`fast_path_is_safe`): a fix of
    90 policies parses each of their documents twice, for itself and in the fixes put
    together."""
    if fast_path_is_safe(document):
        return yaml.load(document, Loader=FastLoader)
    return yaml.safe_load(document)


def _spec_block(lines: list[str]) -> tuple[int, int] | None:
    """The lines of the document's one top-level `spec:` block: from its key to the next
    top-level key, less the blank and comment lines before that key; None when no line, or
    more than one, starts with `spec:`."""
    starts = [i for i, line in enumerate(lines) if line.startswith("spec:")]
    if len(starts) != 1:
        return None
    (start,) = starts
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i][:1] not in ("", *" \t\r\n#")),
        len(lines),
    )
    while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].startswith("#")):
        end -= 1
    return start, end


def _without_implied_types(old: Any, new: dict[str, Any]) -> dict[str, Any]:
    """`new` without `policyTypes` when `old` did not write them and the API server's
    default gives the same (Ingress, plus Egress when `egress` has a rule), so that a fix
    does not add a line that changes nothing."""
    if isinstance(old, dict) and old.get("policyTypes"):
        return new
    implied = {direction.value for direction in default_policy_types(new)}
    if set(new.get("policyTypes", ())) != implied:
        return new
    return {key: value for key, value in new.items() if key != "policyTypes"}


def as_written(old: Any, new: Any) -> Any:
    """`new`, written as `old` where the two say the same, so that a rewritten spec shows
    only what changed: `old`'s keys in `old`'s order, `old`'s list where the two hold the
    same items in another order (`policyTypes: [Egress, Ingress]`; every list of a
    NetworkPolicy spec is a set), and in a list, an item of `old` that equals one of `new`
    (else the item at the same place, for its key order). The result always equals `new` up
    to key order and the order of a list's items, and but for a key `old` left to the API
    server's default (`protocol: TCP` of a port) where `new` says the default."""
    new = _defaults_left_out(old, new)
    if _same(old, new):
        return old
    if isinstance(old, dict) and isinstance(new, dict):
        return {
            **{key: as_written(old[key], new[key]) for key in old if key in new},
            **{key: value for key, value in new.items() if key not in old},
        }
    if isinstance(old, list) and isinstance(new, list):
        unused = list(old)
        kept = []
        for index, item in enumerate(new):
            equal = next((o for o in unused if _same(o, item)), None)
            if equal is not None:
                unused.remove(equal)
                kept.append(equal)
            else:
                kept.append(as_written(old[index], item) if index < len(old) else item)
        return kept
    return new


API_DEFAULTS = {"protocol": "TCP"}
"""Fields of a NetworkPolicy spec the API server fills in when left out (`protocol` only
appears in `ports` entries), so a rewrite need not write them where the document did not."""


def _defaults_left_out(old: Any, new: Any) -> Any:
    """`new` without the keys `old` (a mapping) left out whose value in `new` is the API
    server's default for them."""
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return new
    return {
        key: value
        for key, value in new.items()
        if key in old or key not in API_DEFAULTS or API_DEFAULTS[key] != value
    }


def _same(old: Any, new: Any) -> bool:
    """Equal as YAML data, mappings and lists compared as unordered, a scalar only to one
    of its own type (`1`, `true` and `"1"` differ), and a key `old` left out equal to the
    API server's default `new` gives it."""
    if isinstance(old, dict) and isinstance(new, dict):
        new = _defaults_left_out(old, new)
        return old.keys() == new.keys() and all(_same(old[key], new[key]) for key in old)
    if isinstance(old, list) and isinstance(new, list):
        unmatched = list(new)
        for item in old:
            match = next((index for index, n in enumerate(unmatched) if _same(item, n)), None)
            if match is None:
                return False
            del unmatched[match]
        return not unmatched
    return type(old) is type(new) and old == new


def _indentless(lines: list[str]) -> bool:
    """Whether the document writes a list at its key's column (`ingress:` / `- from:`)."""
    for key, item in pairwise(lines):
        if key.rstrip().endswith(":") and item.lstrip().startswith("- "):
            return len(item) - len(item.lstrip()) == len(key) - len(key.lstrip())
    return False


def _leading_comments(lines: list[str]) -> list[str]:
    kept = []
    for line in lines:
        if line.strip() and not line.lstrip().startswith("#"):
            break
        kept.append(line)
    return kept


def _rule(rule: PolicyRule, peers_key: str) -> dict[str, Any]:
    rendered: dict[str, Any] = {}
    if rule.peers:
        rendered[peers_key] = [_peer(peer) for peer in rule.peers]
    if rule.ports:
        rendered["ports"] = [_port(port) for port in rule.ports]
    return rendered


def _peer(peer: PolicyPeer) -> dict[str, Any]:
    rendered: dict[str, Any] = {}
    if peer.ip_block is not None:
        block: dict[str, Any] = {"cidr": str(peer.ip_block.cidr)}
        if peer.ip_block.excepts:
            block["except"] = [str(network) for network in peer.ip_block.excepts]
        rendered["ipBlock"] = block
    if peer.namespace_selector is not None:
        rendered["namespaceSelector"] = selector_manifest(peer.namespace_selector)
    if peer.pod_selector is not None:
        rendered["podSelector"] = selector_manifest(peer.pod_selector)
    return rendered


def _port(port: PolicyPort) -> dict[str, Any]:
    rendered: dict[str, Any] = {"protocol": port.protocol.value}
    if port.named_port is not None:
        rendered["port"] = port.named_port
    elif port.port_range is not None:
        rendered["port"] = port.port_range.start
        if port.port_range.end != port.port_range.start:
            rendered["endPort"] = port.port_range.end
    return rendered


def selector_manifest(selector: LabelSelector) -> dict[str, Any]:
    """A label selector as the API writes it (admin policies too: `loading.migrate`)."""
    rendered: dict[str, Any] = {}
    if selector.match_labels:
        rendered["matchLabels"] = dict(selector.match_labels)
    if selector.match_expressions:
        rendered["matchExpressions"] = [
            {
                "key": requirement.key,
                "operator": requirement.operator.value,
                **({"values": list(requirement.values)} if requirement.values else {}),
            }
            for requirement in selector.match_expressions
        ]
    return rendered
