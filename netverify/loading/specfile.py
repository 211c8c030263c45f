"""Reading a spec file: one YAML document, checked against the `SpecFile` schema (pydantic;
unknown fields are errors, since we own this schema), its manifest paths resolved against the
spec's folder. Schema errors become diagnostics at the offending line and field path; names,
selectors and ports are resolved afterwards, against the cluster (`spec.resolve_spec`).
"""

import os
from dataclasses import dataclass

from pydantic import ValidationError

from netverify.loading.fields import format_field
from netverify.loading.inputfiles import read_text
from netverify.loading.live import ClusterSource
from netverify.loading.yamlsource import YamlDocument, parse_documents
from netverify.model import Diagnostic, InputError, Severity, SourceSpan
from netverify.model.spec_schema import UNION_TAGS, ClusterManifests, SpecFile

Path = tuple[str | int, ...]
"""A location in the spec document: mapping keys and list indices."""


@dataclass(frozen=True)
class RawSpec:
    """A spec file that matches the schema, before names are resolved."""

    file: str
    spec: SpecFile
    document: YamlDocument

    @property
    def manifest_paths(self) -> tuple[str, ...]:
        """Manifest paths as given, resolved against the spec file's folder."""
        return tuple(self.resolve(path) for path in self.spec.manifests if isinstance(path, str))

    @property
    def clusters(self) -> tuple[ClusterSource, ...]:
        """The live clusters among the manifests, kubeconfig files resolved like paths."""
        return tuple(
            ClusterSource(
                context=None if entry.cluster is True else entry.cluster,
                kubeconfig=None
                if entry.kubeconfig is None
                else self.resolve(os.path.expanduser(entry.kubeconfig)),
            )
            for entry in self.spec.manifests
            if isinstance(entry, ClusterManifests)
        )

    def resolve(self, path: str) -> str:
        """A path of the spec file, resolved against the spec file's folder."""
        return os.path.normpath(os.path.join(os.path.dirname(self.file), path))


def read_spec(path: str) -> RawSpec:
    """Read a spec file and check it against the schema."""
    documents = parse_documents(read_text(path), path)
    if len(documents) != 1:
        raise InputError(
            [
                Diagnostic(
                    severity=Severity.ERROR,
                    message=f"a spec file holds exactly one YAML document, found {len(documents)}",
                    span=SourceSpan(file=path, line=1),
                )
            ]
        )
    document = documents[0]
    try:
        spec = SpecFile.model_validate(document.data)
    except ValidationError as invalid:
        raise InputError(_schema_diagnostics(invalid, document)) from None
    raw = RawSpec(file=path, spec=spec, document=document)
    missing = [
        Diagnostic(
            severity=Severity.ERROR,
            message=f"no such file or directory: {resolved}",
            span=SourceSpan(file=path, line=document.line_of(("manifests", index))),
            field=f"manifests[{index}]",
        )
        for index, entry in enumerate(spec.manifests)
        if isinstance(entry, str) and not os.path.exists(resolved := raw.resolve(entry))
    ]
    if missing:
        raise InputError(missing)
    return raw


_FIELDS_HINT = {
    (): " (a spec has manifests, settings and invariants)",
    ("invariants", 0): " (an invariant has name, description, pods, namespaces and exactly one "
    "of forbid, require, reachable)",
    ("invariants", 0, "kind"): " (forbid, require and reachable take from, to and ports)",
    ("invariants", 0, "kind", "end"): " (an endpoint has namespace, pod, ip and service)",
    ("settings",): " (settings are ipBlockMatchesPods and podCIDRs)",
}
"""Which fields a mapping may have, by its shape in the spec (indices and kinds as 0)."""


def _shape(path: Path) -> Path:
    """A location with list indices, kind names and endpoint names made generic."""
    shape: list[str | int] = []
    for part in path:
        if isinstance(part, int):
            shape.append(0)
        elif part in ("forbid", "require", "reachable"):
            shape.append("kind")
        elif part in ("from", "to"):
            shape.append("end")
        else:
            shape.append(part)
    return tuple(shape)


def _schema_diagnostics(invalid: ValidationError, document: YamlDocument) -> list[Diagnostic]:
    seen: dict[Path, Diagnostic] = {}
    for error in invalid.errors():
        loc = _without_union_tags(error["loc"])
        if loc in seen:
            continue
        match error["type"]:
            case "extra_forbidden":
                message = f'unknown field "{loc[-1]}"' + _FIELDS_HINT.get(_shape(loc[:-1]), "")
                field_path = format_field(loc[:-1])
            case "model_type" | "dict_type" if not loc:
                message = "a spec file is a mapping with `manifests`, `settings` and `invariants`"
                field_path = None
            case "too_short":
                message = "needs at least one entry"
                field_path = format_field(loc)
            case "missing":
                message = f'missing required field "{loc[-1]}"'
                field_path = format_field(loc[:-1])
            case _:
                message = error["msg"].removeprefix("Value error, ")
                field_path = format_field(loc)
        seen[loc] = Diagnostic(
            severity=Severity.ERROR,
            message=message,
            span=SourceSpan(file=document.file, line=document.line_of(loc)),
            field=field_path,
        )
    return list(seen.values())


def _without_union_tags(loc: tuple[str | int, ...]) -> Path:
    """The location in the document: pydantic adds the union member's tag right after a
    `namespace`/`pod`/`cluster` field or a `ports`/`manifests` entry."""
    path: list[str | int] = []
    for part in loc:
        after_union = path and (
            path[-1] in ("namespace", "pod", "cluster")
            or (isinstance(path[-1], int) and len(path) > 1 and path[-2] in ("ports", "manifests"))
        )
        if after_union and part in UNION_TAGS:
            continue
        path.append(part)
    return tuple(path)
