"""What was read from a live cluster, written as YAML manifests: one file per kind, which
`netverify` loads like any manifests (for review, and for CI without cluster access)."""

from pathlib import Path

import yaml

from netverify.loading.inputerrors import input_error
from netverify.loading.live import ClusterRead


def write_snapshot(read: ClusterRead, folder: Path) -> list[Path]:
    """Write `RESOURCE.yaml` (`networkpolicies.yaml`, ...) for every kind the server served,
    objects sorted by namespace and name, and return the files written; a kind without
    objects gets a file saying so, so that a review sees it was read."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for listed, items in read.objects.items():
            ordered = sorted(items, key=_namespace_and_name)
            header = f"# {listed.kind} ({listed.api_version}) read from {read.label}\n"
            body = yaml.safe_dump_all(ordered, sort_keys=False) if ordered else "# none\n"
            file = folder / f"{listed.resource}.yaml"
            file.write_text(header + body, encoding="utf-8")
            written.append(file)
    except OSError as exc:
        raise input_error(f"{folder}: cannot write the snapshot: {exc.strerror or exc}") from None
    return written


def _namespace_and_name(item: dict[str, object]) -> tuple[str, str]:
    metadata = item.get("metadata")
    if not isinstance(metadata, dict):
        return ("", "")
    return (str(metadata.get("namespace") or ""), str(metadata.get("name") or ""))
