"""Which of some pods each selector matches, as a bit set (a Python int, bit i for the
i-th pod): a few bitwise operations per selector instead of a match per pod.

The answers are those of `netverify.semantics` (`selector_matches`, `policy_selects`,
`peer_matches` for peers without an ipBlock), pod by pod: a selector matches the pods whose
labels have every `matchLabels` pair and meet every `matchExpressions` requirement, and
neither selects nor matches a hostNetwork pod. Used over classes of pods (one pod standing
for each, `netverify.engine.bitsets`) and over the existing pods one by one (lint).
"""

from collections.abc import Callable, Iterable, Sequence
from copy import copy

from netverify.model import (
    LabelRequirement,
    LabelSelector,
    Namespace,
    Operator,
    Pod,
    PolicyPeer,
    Protocol,
)
from netverify.semantics import selector_matches


def bits_to_indices(bits: int) -> list[int]:
    indices = []
    while bits:
        low = bits & -bits
        indices.append(low.bit_length() - 1)
        bits ^= low
    return indices


def union(parts: Iterable[int]) -> int:
    total = 0
    for part in parts:
        total |= part
    return total


class PodBits:
    """Bit i for `pods[i]`: the pods that selectors, namespaces and named ports pick out."""

    def __init__(self, pods: Sequence[Pod], namespaces: Sequence[Namespace]) -> None:
        self.namespaces = namespaces
        self.all = (1 << len(pods)) - 1
        self.governed = 0
        """The pods that are not hostNetwork pods: those policies can select and match."""
        self.by_label: dict[tuple[str, str], int] = {}
        self.by_key: dict[str, int] = {}
        self.by_namespace: dict[str, int] = {}
        self.by_port: dict[tuple[str, Protocol, int], int] = {}
        for index, pod in enumerate(pods):
            bit = 1 << index
            if not pod.host_network:
                self.governed |= bit
            for key, value in pod.labels.items():
                self.by_label[(key, value)] = self.by_label.get((key, value), 0) | bit
                self.by_key[key] = self.by_key.get(key, 0) | bit
            self.by_namespace[pod.namespace] = self.by_namespace.get(pod.namespace, 0) | bit
            for port in pod.ports:
                if port.name:
                    named = (port.name, port.protocol, port.port)
                    self.by_port[named] = self.by_port.get(named, 0) | bit
        self._labels = _SelectorCache(self._labels_bits)
        self._namespace_selectors = _SelectorCache(self._namespace_selector_bits)

    def with_namespaces(self, namespaces: Sequence[Namespace]) -> "PodBits":
        """The same pods in namespaces labelled otherwise (another revision's): the pods'
        tables and their selectors' bits are shared, the namespace selectors' are not."""
        other = copy(self)
        other.namespaces = namespaces
        other._namespace_selectors = _SelectorCache(other._namespace_selector_bits)
        return other

    def pod_selector_bits(self, selector: LabelSelector) -> int:
        """Governed pods whose labels the selector matches."""
        return self._labels.bits(selector) & self.governed

    def namespace_selector_bits(self, selector: LabelSelector) -> int:
        """Pods in namespaces whose labels the selector matches."""
        return self._namespace_selectors.bits(selector)

    def labels_bits(self, selector: LabelSelector) -> int:
        """Pods whose labels the selector matches, hostNetwork pods too."""
        return self._labels.bits(selector)

    def _labels_bits(self, selector: LabelSelector) -> int:
        bits = self.all
        for label, value in selector.match_labels.items():
            bits &= self.by_label.get((label, value), 0)
        for requirement in selector.match_expressions:
            with_value = union(
                self.by_label.get((requirement.key, v), 0) for v in requirement.values
            )
            match requirement.operator:
                case Operator.IN:
                    bits &= with_value
                case Operator.NOT_IN:
                    bits &= ~with_value
                case Operator.EXISTS:
                    bits &= self.by_key.get(requirement.key, 0)
                case Operator.DOES_NOT_EXIST:
                    bits &= ~self.by_key.get(requirement.key, 0)
        return bits

    def _namespace_selector_bits(self, selector: LabelSelector) -> int:
        return union(
            self.by_namespace.get(namespace.name, 0)
            for namespace in self.namespaces
            if selector_matches(selector, namespace.labels)
        )

    def policy_bits(self, namespace: str, selector: LabelSelector) -> int:
        """The pods a policy in `namespace` with this `podSelector` selects."""
        return self.by_namespace.get(namespace, 0) & self.pod_selector_bits(selector)

    def peer_bits(self, peer: PolicyPeer, policy_namespace: str) -> int:
        """The pods a peer without an ipBlock, of a policy in `policy_namespace`, matches."""
        in_namespace = (
            self.by_namespace.get(policy_namespace, 0)
            if peer.namespace_selector is None
            else self.namespace_selector_bits(peer.namespace_selector)
        )
        pods = (
            self.governed
            if peer.pod_selector is None
            else self.pod_selector_bits(peer.pod_selector)
        )
        return in_namespace & pods & self.governed


SelectorContent = tuple[tuple[tuple[str, str], ...], tuple[LabelRequirement, ...]]


class _SelectorCache:
    """Bits per selector content: thousands of policies repeat a few dozen selectors."""

    def __init__(self, compute: Callable[[LabelSelector], int]) -> None:
        self._compute = compute
        self._bits: dict[SelectorContent, int] = {}

    def bits(self, selector: LabelSelector) -> int:
        content = (tuple(selector.match_labels.items()), selector.match_expressions)
        bits = self._bits.get(content)
        if bits is None:
            bits = self._bits[content] = self._compute(selector)
        return bits
