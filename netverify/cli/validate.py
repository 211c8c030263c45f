"""`netverify validate`: load the manifests and summarise them."""

import sys

import typer

from netverify.cli.common import (
    NamespaceOption,
    PathsArgument,
    StrictOption,
    input_error,
    print_warnings,
)
from netverify.loading import load_manifests
from netverify.model import InputError


def validate(
    paths: PathsArgument, strict: StrictOption = False, namespace: NamespaceOption = None
) -> None:
    """Load and validate manifests; summarise namespaces, pods, policies and isolation."""
    from netverify.engine.summary import summarise
    from netverify.report.text import format_validate

    try:
        loaded = load_manifests(paths, strict=strict, stdin=sys.stdin, namespace=namespace)
    except InputError as error:
        input_error(error)
    print_warnings(loaded.warnings)
    typer.echo(format_validate(summarise(loaded)), nl=False)
