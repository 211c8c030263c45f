"""YAML/JSON manifests to the model: the only code that sees raw dicts."""

from netverify.loading.inputfiles import collect_files, read_text
from netverify.loading.manifests import load_manifests
from netverify.loading.parsecache import ParseCache
from netverify.loading.yamlsource import YamlDocument, parse_documents

__all__ = [
    "ParseCache",
    "YamlDocument",
    "collect_files",
    "load_manifests",
    "parse_documents",
    "read_text",
]
