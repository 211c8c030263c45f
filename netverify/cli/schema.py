"""`netverify schema`: the JSON Schema of spec files."""

import json

import typer


def schema() -> None:
    """Print the JSON Schema of spec files."""
    from netverify.model.spec_schema import SpecFile

    typer.echo(json.dumps(SpecFile.model_json_schema(), indent=2))
