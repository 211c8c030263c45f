"""Reports built once per session from the repository's specs and the diff fixtures.

Everything runs with the repository root as the current directory, so file names in the
output are the short relative ones a user sees (and goldens do not depend on where the
checkout lives).
"""

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator

from netverify.engine import SolverLimits, prove
from netverify.engine.diff import diff
from netverify.loading import load_manifests
from netverify.loading.spec import resolve_spec
from netverify.loading.specfile import read_spec
from netverify.model import NamespaceScope, PodScope, Report, Settings
from netverify.model.diff import DiffReport

REPO = Path(__file__).resolve().parents[2]
SPECS = ("specs/devprod.yaml", "specs/isolation.yaml")
FIXTURES = "tests/diff/fixtures"
SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"


@contextmanager
def at_repository_root() -> Iterator[None]:
    here = os.getcwd()
    os.chdir(REPO)
    try:
        yield
    finally:
        os.chdir(here)


@cache
def prove_reports() -> tuple[Report, ...]:
    with at_repository_root():
        reports = []
        for spec_path in SPECS:
            raw = read_spec(spec_path)
            loaded = load_manifests(raw.manifest_paths)
            reports.append(prove(loaded, resolve_spec(raw, loaded.cluster), SolverLimits()))
        return tuple(reports)


def diff_report(base: str, head: str) -> DiffReport:
    with at_repository_root():
        return diff(
            load_manifests([base]),
            load_manifests([head]),
            Settings(),
            PodScope.EXISTING,
            NamespaceScope.EXISTING,
            SolverLimits(),
            labels=(base, head),
        )


@cache
def widened_diff() -> DiffReport:
    return diff_report(f"{FIXTURES}/base", f"{FIXTURES}/head")


@cache
def unchanged_diff() -> DiffReport:
    return diff_report(f"{FIXTURES}/base", f"{FIXTURES}/base")


@cache
def sarif_validator() -> Draft4Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)


def validate_sarif(document: Any) -> None:
    """Raise the first schema error, with its path, if the document is not valid SARIF."""
    errors = sorted(sarif_validator().iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
