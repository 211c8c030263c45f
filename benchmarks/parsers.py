"""Candidate parsers for the manifest loader, timed on a generated tier's manifest files.

    python -m benchmarks.parsers /tmp/k10          # median CPU seconds of 3 runs each

Each candidate turns the text of every manifest file into plain documents (parse only, no
model building), timed in CPU seconds of this process (the machine is shared: wall time
drifts with the load, CPU time much less). A candidate not installed is listed as such.
JSON candidates read the same documents written as JSON (what `kubectl get -o json`
gives). The figures are in benchmarks/README.md ("Parser candidates").
"""

import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from netverify.loading.yamlsource import _reference_documents, parse_documents

MANIFESTS = ("namespaces.yaml", "workloads.yaml", "pods.yaml", "policies.yaml")

Parse = Callable[[str], object]


def _candidates() -> dict[str, Parse | None]:
    """Name -> parse function of one file's text, or None when the package is missing."""
    found: dict[str, Parse | None] = {
        "PyYAML CSafeLoader (the floor)": lambda text: list(
            yaml.load_all(text, Loader=yaml.CSafeLoader)
        ),
        "netverify loader (with line numbers)": lambda text: parse_documents(text, "f.yaml"),
        "netverify loader, PyYAML path only": lambda text: _reference_documents(
            text, text, "f.yaml"
        ),
    }
    try:
        import yaml_rs

        found["yaml-rs (Rust)"] = lambda text: yaml_rs.loads(text, parse_datetime=False)
    except ImportError:
        found["yaml-rs (Rust)"] = None
    try:
        import ryaml

        found["ryaml (Rust)"] = ryaml.loads_all
    except ImportError:
        found["ryaml (Rust)"] = None
    try:
        import pyyaml_rs

        found["pyyaml-rs (Rust)"] = lambda text: list(pyyaml_rs.safe_load_all(text))
    except ImportError:
        found["pyyaml-rs (Rust)"] = None
    try:
        import ryml

        # Parsing only: reading the tree back into Python objects is a call per node.
        found["rapidyaml (parse to its tree only)"] = lambda text: ryml.parse_in_arena(
            text.encode()
        )
    except ImportError:
        found["rapidyaml (parse to its tree only)"] = None
    return found


def _json_candidates() -> dict[str, Parse | None]:
    found: dict[str, Parse | None] = {"json (stdlib)": json.loads}
    try:
        import orjson

        found["orjson"] = orjson.loads
    except ImportError:
        found["orjson"] = None
    return found


def _median_seconds(parse: Parse, texts: list[str], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.process_time()
        for text in texts:
            parse(text)
        runs.append(time.process_time() - start)
    return statistics.median(runs)


def main(folder: Path, repeat: int = 3) -> None:
    texts = [(folder / name).read_text(encoding="utf-8") for name in MANIFESTS]
    as_json = [
        json.dumps({"apiVersion": "v1", "kind": "List", "items": list(yaml.safe_load_all(text))})
        for text in texts
    ]
    size = sum(len(text) for text in texts) / 1e6
    print(f"{folder}: {size:.1f} MB of YAML, median CPU seconds of {repeat} runs")
    for texts_of, candidates in ((texts, _candidates()), (as_json, _json_candidates())):
        for name, parse in candidates.items():
            if parse is None:
                print(f"  {name:40s} not installed")
                continue
            print(f"  {name:40s} {_median_seconds(parse, texts_of, repeat):6.3f} s")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
