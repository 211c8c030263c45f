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
from pathlib import Path
from typing import Literal

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
    lines = _hunks(before.splitlines(keepends=True), after.splitlines(keepends=True))
    body = [f"--- {old}\n", f"+++ b/{path}\n", *lines] if lines else []
    return FilePatch(
        path=path, diff=header + "".join(_terminated(body)), original=before, patched=after
    )


_CONTEXT = 3
"""Unchanged lines shown around a change, as difflib and git show them."""
_LONG = 200
"""From this many lines, difflib's matcher sets popular lines aside (its `autojunk`)."""

Opcode = tuple[Literal["replace", "delete", "insert", "equal"], int, int, int, int]
"""What `difflib.SequenceMatcher.get_opcodes` lists."""


def _hunks(before: list[str], after: list[str]) -> list[str]:
    """The hunks `difflib.unified_diff(before, after)` writes, after its two header lines.

    A fix changes a few lines of a manifest file that may hold tens of thousands, and
    difflib's matcher takes seconds on such a file. There (from `_LONG` lines, where it
    sets aside lines repeated more than once per hundred as seeds of a match) its first
    matches are the unchanged lines at the start, then those at the end: they are found by
    comparing lines from either end, and only the lines between go to the matcher.
    """
    if len(after) < _LONG:
        return list(difflib.unified_diff(before, after, n=_CONTEXT))[2:]
    ahead = _same_run(before, after)
    behind = _same_run(before[ahead:][::-1], after[ahead:][::-1])
    between = difflib.SequenceMatcher(
        None, before[ahead : len(before) - behind], after[ahead : len(after) - behind]
    ).get_opcodes()
    opcodes: list[Opcode] = [
        ("equal", 0, ahead, 0, ahead),
        *((tag, i + ahead, j + ahead, k + ahead, m + ahead) for tag, i, j, k, m in between),
        ("equal", len(before) - behind, len(before), len(after) - behind, len(after)),
    ]
    rows = []
    for group in _Matched(opcodes).get_grouped_opcodes(_CONTEXT):
        first, last = group[0], group[-1]
        rows.append(f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@\n")
        for tag, start, end, new_start, new_end in group:
            if tag == "equal":
                rows += (" " + row for row in before[start:end])
                continue
            rows += ("-" + row for row in before[start:end])
            rows += ("+" + row for row in after[new_start:new_end])
    return rows


class _Matched(difflib.SequenceMatcher[str]):
    """difflib's grouping of changes into hunks, over opcodes found some other way."""

    def __init__(self, opcodes: list[Opcode]) -> None:
        super().__init__(None, [], [])
        self._found = [code for code in opcodes if code[1] < code[2] or code[3] < code[4]]

    def get_opcodes(self) -> list[Opcode]:
        merged: list[Opcode] = []
        for code in self._found:
            if merged and merged[-1][0] == code[0] == "equal":
                merged[-1] = ("equal", merged[-1][1], code[2], merged[-1][3], code[4])
            else:
                merged.append(code)
        return merged


def _same_run(before: list[str], after: list[str]) -> int:
    """How many lines the two start with alike."""
    run = 0
    for old_line, new_line in zip(before, after, strict=False):
        if old_line != new_line:
            break
        run += 1
    return run


def _range(start: int, end: int) -> str:
    """A hunk's line range as unified diffs write it (difflib's `_format_range_unified`)."""
    if end - start == 1:
        return str(start + 1)
    return f"{start + 1 if end > start else start},{end - start}"


def _terminated(lines: list[str]) -> list[str]:
    """Diff lines, each ending in a newline (a last line without one is marked as `git` does)."""
    return [
        row if row.endswith("\n") else row + "\n\\ No newline at end of file\n" for row in lines
    ]


def _relative(path: Path) -> str:
    return Path(os.path.relpath(path.resolve(), Path.cwd())).as_posix()
