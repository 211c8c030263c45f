"""A candidate as unified diffs of the manifest files, with paths as `git diff` writes them
(relative to the current directory, `a/` and `b/` prefixes), which `git apply` accepts.

An edited policy's document is rewritten from its `spec` down (its other fields and the
comment lines above it are kept; every other document of the file is left as written); a
new policy goes to a new file `netverify-fix-NAME.yaml` beside the spec's first manifest.
"""

import difflib
import os
from pathlib import Path

from netverify.loading.render import dump_yaml, policy_manifest, with_spec_replaced
from netverify.model.fix import Candidate, FilePatch
from netverify.model.policy import NetworkPolicy
from netverify.model.refs import ObjectRef, SourceMap

_SEPARATOR = "---"


def file_patches(candidate: Candidate, sources: SourceMap, new_folder: Path) -> tuple[FilePatch, ...]:
    """One patch per file the candidate touches; an edit whose document cannot be found
    (an object read from a live cluster, a List, a JSON file) gets no patch."""
    by_file: dict[str, list[tuple[int, NetworkPolicy]]] = {}
    patches = []
    for edit in candidate.edits:
        if edit.before is None:
            path = _relative(new_folder / f"netverify-fix-{edit.after.name}.yaml")
            patches.append(_patch(path, "", dump_yaml(policy_manifest(edit.after))))
            continue
        span = sources.of_object(ObjectRef(kind="NetworkPolicy", namespace=edit.after.namespace, name=edit.after.name))
        if span is None or not span.line or span.file.endswith(".json"):
            continue
        by_file.setdefault(span.file, []).append((span.line, edit.after))
    for file, edits in sorted(by_file.items()):
        original = Path(file).read_text(encoding="utf-8")
        text: str | None = original
        for line, policy in sorted(edits, key=lambda item: -item[0]):
            text = _replaced(text, line, policy) if text is not None else None
        if text is not None:
            patches.append(_patch(_relative(Path(file)), original, text))
    return tuple(sorted(patches, key=lambda patch: patch.path))


def _replaced(text: str, line: int, policy: NetworkPolicy) -> str | None:
    """`text` with the policy's spec rewritten in the document that holds line `line`."""
    lines = text.splitlines(keepends=True)
    separators = [i for i, row in enumerate(lines) if row.rstrip() == _SEPARATOR]
    start = max((i + 1 for i in separators if i < line - 1), default=0)
    end = min((i for i in separators if i >= line - 1), default=len(lines))
    document = "".join(lines[start:end])
    trailing = document[len(document.rstrip("\n")) :] or "\n"
    rewritten = with_spec_replaced(document, policy)
    if rewritten is None:
        return None
    body = rewritten.rstrip("\n") + trailing
    return "".join(lines[:start]) + body + "".join(lines[end:])


def _patch(path: str, before: str, after: str) -> FilePatch:
    old = "/dev/null" if not before else f"a/{path}"
    header = f"diff --git a/{path} b/{path}\n" + ("new file mode 100644\n" if not before else "")
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), old, f"b/{path}"
    )
    return FilePatch(path=path, diff=header + "".join(_terminated(lines)))


def _terminated(lines: object) -> list[str]:
    """Diff lines, each ending in a newline (a last line without one is marked as `git` does)."""
    result = []
    for row in lines:  # type: ignore[attr-defined]
        result.append(row if row.endswith("\n") else row + "\n\\ No newline at end of file\n")
    return result


def _relative(path: Path) -> str:
    return Path(os.path.relpath(path.resolve(), Path.cwd())).as_posix()
