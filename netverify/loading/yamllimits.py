"""How big and how deep a YAML document may be, counting every expansion of its aliases.

An alias bomb (a few kilobytes that expand to billions of nodes) or an alias that refers to
its own ancestor is refused before the document is converted to data.
"""

import yaml

from netverify.loading.inputerrors import input_error
from netverify.model import InputError

MAX_NODES = 1_000_000
"""Nodes a document may expand to, counting every expansion of every alias (as consumers that
walk the data would)."""
MAX_DEPTH = 200
"""How deeply mappings and lists may nest; Kubernetes objects need a few dozen at most."""


def check_expansion(root: yaml.Node, file: str) -> bool:
    """Refuse a document whose aliases expand it too much or nest it too deep.

    Size and height are computed over the graph of shared nodes, each distinct node once, so
    a document of a few kilobytes that would expand to billions of nodes (an alias bomb) is
    refused at once, as is an alias that refers to its own ancestor. Returns whether any
    node is shared (the document uses aliases).
    """
    measured: dict[int, tuple[int, int]] = {}
    in_progress: set[int] = set()
    shared: list[yaml.Node] = []

    def refuse(message: str, node: yaml.Node) -> InputError:
        return input_error(message, file, node.start_mark.line + 1)

    def measure(node: yaml.Node) -> tuple[int, int]:
        """(nodes once expanded, levels of nesting) of the subtree at `node`."""
        known = measured.get(id(node))
        if known is not None:
            shared.append(node)
            return known
        if id(node) in in_progress:
            raise refuse(f"document nests deeper than {MAX_DEPTH} levels", node)
        in_progress.add(id(node))
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        size, height = 1, 0
        for child in children:
            child_size, child_height = measure(child)
            size += child_size
            height = max(height, child_height + 1)
        in_progress.discard(id(node))
        if size > MAX_NODES:
            raise refuse(
                f"document expands to more than {MAX_NODES} nodes (YAML alias bomb?)", node
            )
        if height > MAX_DEPTH:
            raise refuse(f"document nests deeper than {MAX_DEPTH} levels", node)
        measured[id(node)] = (size, height)
        return size, height

    measure(root)
    return bool(shared)
