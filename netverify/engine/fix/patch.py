"""A candidate as unified diffs of the manifest files, with paths as `git diff` writes them
(relative to the current directory, `a/` and `b/` prefixes), which `git apply` accepts.

An edited policy's document is rewritten from its `spec` down (its other fields and the
comment lines above it are kept; every other document of the file is left as written); a
new policy goes to a new file `netverify-fix-NAMESPACE-NAME.yaml` (admin policies:
`netverify-fix-NAME.yaml`) when the spec loads a whole folder,
else after the last document of a file that holds policies (of its kind, for a new admin
policy, when there is one).
"""

import difflib
import os
from collections.abc import Iterator
from pathlib import Path

from netverify.loading.migrate import cluster_network_policy
from netverify.loading.render import dump_yaml, policy_manifest, with_spec_replaced
from netverify.model import AdminPolicy
from netverify.model.fix import Candidate, FilePatch, PolicyEdit
from netverify.model.policy import NetworkPolicy
from netverify.model.refs import SourceMap, SourceSpan, network_policy_ref

_SEPARATOR = "---"


def file_patches(
    candidate: Candidate, sources: SourceMap, new_folder: Path | None
) -> tuple[FilePatch, ...]:
    """One patch per file the candidate touches. A new policy goes to its own file in
    `new_folder` (a folder the spec loads whole), or else after the last document of the
    file that holds the namespace's policies (or any policy). An edit whose document cannot
    be found (an object read from a live cluster, a List, a JSON file) gets no patch."""
    texts: dict[str, tuple[str, str | None]] = {}
    patches = []
    edited = sorted(
        (
            edit.after
            for edit in candidate.edits
            if edit.before is not None and isinstance(edit.after, NetworkPolicy)
        ),
        key=lambda policy: -_line(sources, policy),
    )
    for policy in edited:
        span = _span(sources, policy)
        if span is None or not span.line or span.file.endswith(".json"):
            continue
        original, text = texts.get(span.file) or (_read(span.file),) * 2
        texts[span.file] = (original, _replaced(text, span.line, policy) if text else None)
    for edit in candidate.edits:
        if edit.before is not None:
            continue
        document = dump_yaml(_manifest(edit))
        if new_folder is not None:
            scope = f"{edit.key.namespace}-" if edit.key.namespace else ""
            path = _relative(new_folder / f"netverify-fix-{scope}{edit.after.name}.yaml")
            patches.append(_patch(path, "", document))
            continue
        file = _policy_file(sources, edit)
        if file is None:
            continue
        original, text = texts.get(file) or (_read(file),) * 2
        texts[file] = (original, f"{text.rstrip()}\n{_SEPARATOR}\n{document}" if text else None)
    for file, (original, text) in texts.items():
        if text is not None:
            patches.append(_patch(_relative(Path(file)), original, text))
    return tuple(sorted(patches, key=lambda patch: patch.path))


def _manifest(edit: PolicyEdit) -> dict[str, object]:
    if isinstance(edit.after, AdminPolicy):
        return cluster_network_policy(edit.after)
    return policy_manifest(edit.after)


def _span(sources: SourceMap, policy: NetworkPolicy) -> SourceSpan | None:
    return sources.of_object(network_policy_ref(policy))


def _line(sources: SourceMap, policy: NetworkPolicy) -> int:
    span = _span(sources, policy)
    return span.line if span is not None else 0


def _policy_file(sources: SourceMap, edit: PolicyEdit) -> str | None:
    """The file a new policy is appended to: for a NetworkPolicy, the file of its
    namespace's first policy, or of any policy; for an admin policy, the file of the first
    admin policy, or of any policy."""
    ref = edit.key
    files = sorted(
        (
            (other.kind != ref.kind, other.namespace != ref.namespace, span.file)
            for other, span in sources.objects.items()
            if other.kind in ("NetworkPolicy", ref.kind)
            and span.line
            and not span.file.endswith(".json")
        )
    )
    return files[0][2] if files else None


def _read(file: str) -> str:
    return Path(file).read_text(encoding="utf-8")


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
    return FilePatch(
        path=path, diff=header + "".join(_terminated(lines)), original=before, patched=after
    )


def _terminated(lines: Iterator[str]) -> list[str]:
    """Diff lines, each ending in a newline (a last line without one is marked as `git` does)."""
    return [
        row if row.endswith("\n") else row + "\n\\ No newline at end of file\n" for row in lines
    ]


def _relative(path: Path) -> str:
    return Path(os.path.relpath(path.resolve(), Path.cwd())).as_posix()
