"""Composed YAML nodes to plain data (dict/list/str/int/float/bool/None), recording the line
of every node in a side table keyed by its path.

Scalars are resolved as the safe loader resolves them (YAML 1.1: null, booleans, numbers,
else a string); `<<` merge keys are applied; a duplicate key is an error.
"""

import yaml

from netverify.loading.inputerrors import input_error
from netverify.loading.yamllimits import MAX_DEPTH
from netverify.loading.yamlloaders import FastLoader, PureLoader

Path = tuple[str | int, ...]
"""Where a node is in its document: the keys and list indexes that lead to it."""

_MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG = "tag:yaml.org,2002:str"


class Converter:
    """Turns one composed document into plain data, recording the line of each node.

    A node reached again through an alias is converted once and shared, and gets no positions
    under the alias's path beyond the line where the alias is written, which `line_of` falls
    back to. The caller has already refused documents that expand too much or nest too deep,
    and says whether any node is shared (without, no node is reached twice and none needs
    remembering).
    """

    def __init__(self, loader: PureLoader | FastLoader, file: str, shared: bool) -> None:
        self._alias_lines = loader.alias_lines
        self._construct_bool = loader.construct_yaml_bool
        self._construct_int = loader.construct_yaml_int
        self._construct_float = loader.construct_yaml_float
        self._file = file
        self._converted: dict[int, object] | None = {} if shared else None
        self.positions: dict[Path, int] = {}

    def convert(self, node: yaml.Node, path: Path, depth: int) -> object:
        converted = self._converted
        if converted is not None and id(node) in converted:
            return converted[id(node)]
        if depth >= MAX_DEPTH:  # depth 0 is the first level
            line = node.start_mark.line + 1
            raise input_error(f"document nests deeper than {MAX_DEPTH} levels", self._file, line)
        self.positions.setdefault(path, node.start_mark.line + 1)
        value: object
        if isinstance(node, yaml.ScalarNode):
            value = self._scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            if self._alias_lines:
                for index in range(len(node.value)):
                    alias_line = self._alias_lines.get((id(node), index))
                    if alias_line is not None:
                        self.positions.setdefault((*path, index), alias_line)
            value = [self.convert(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        else:
            assert isinstance(node, yaml.MappingNode)
            value = self._mapping(node, path, depth)
        if converted is not None:
            converted[id(node)] = value
        return value

    def _mapping(self, node: yaml.MappingNode, path: Path, depth: int) -> dict[str, object]:
        result: dict[str, object] = {}
        merges: list[yaml.Node] = []
        positions = self.positions
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merges.append(value_node)
                continue
            key = self._key(key_node, path, depth)
            key_path = (*path, key)
            key_line = key_node.start_mark.line + 1
            if key in result:
                raise input_error(
                    f'duplicate key "{key}" (first written at line {positions[key_path]})',
                    self._file,
                    key_line,
                )
            positions.setdefault(key_path, key_line)
            result[key] = self.convert(value_node, key_path, depth + 1)
        # `<<: *base` (or a list of them): explicit keys win, then earlier sources.
        for merge in merges:
            sources = merge.value if isinstance(merge, yaml.SequenceNode) else [merge]
            for source in sources:
                merged = self.convert(source, path, depth)
                if not isinstance(merged, dict):
                    raise input_error(
                        "a merge key (<<) must refer to a mapping or a list of mappings",
                        self._file,
                        source.start_mark.line + 1,
                    )
                for key, value in merged.items():
                    result.setdefault(key, value)
        return result

    def _key(self, node: yaml.Node, path: Path, depth: int) -> str:
        # NOTE: a scalar key is kept as written (`80: x` gives "80", `on: x` gives "on").
        if isinstance(node, yaml.ScalarNode):
            return str(node.value)
        return str(self.convert(node, (*path, "<key>"), depth + 1))

    def _scalar(self, node: yaml.ScalarNode) -> object:
        """Null, booleans and numbers as the safe loader resolves them; anything else a string."""
        tag = node.tag
        if tag == _STR_TAG:
            return str(node.value)
        try:
            match tag:
                case "tag:yaml.org,2002:null":
                    return None
                case "tag:yaml.org,2002:bool":
                    return self._construct_bool(node)
                case "tag:yaml.org,2002:int":
                    return self._construct_int(node)
                case "tag:yaml.org,2002:float":
                    return self._construct_float(node)
        except (ValueError, yaml.YAMLError):
            pass
        return str(node.value)
