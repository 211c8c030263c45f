"""A candidate as unified diffs of the manifest files, with paths as `git diff` writes them
(relative to the current directory, `a/` and `b/` prefixes), which `git apply` accepts.

An edited policy's document has its `spec` rewritten (the rest of its text is kept as
written: `loading.render.with_spec_replaced`; every other document of the file is too); a
new policy goes to a new file `netverify-fix-NAMESPACE-NAME.yaml` (admin policies:
`netverify-fix-NAME.yaml`) when the spec loads a whole folder,
else after the last document of a file that holds policies (of its kind, for a new admin
policy, when there is one).
"""

import difflib
import os
from itertools import pairwise
from pathlib import Path

from netverify.loading.migrate import admin_policy_manifest
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
    edited: dict[str, list[tuple[int, NetworkPolicy]]] = {}
    for edit in candidate.edits:
        if edit.before is None or not isinstance(edit.after, NetworkPolicy):
            continue
        span = _span(sources, edit.after)
        if span is None or not span.line or span.file.endswith(".json"):
            continue
        edited.setdefault(span.file, []).append((span.line, edit.after))
    for name, policies in edited.items():
        original = _read(name)
        texts[name] = (original, _replaced(original, policies) if original else None)
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
        return admin_policy_manifest(edit.after)
    return policy_manifest(edit.after)


def _span(sources: SourceMap, policy: NetworkPolicy) -> SourceSpan | None:
    return sources.of_object(network_policy_ref(policy))


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


def _replaced(text: str, policies: list[tuple[int, NetworkPolicy]]) -> str | None:
    """`text` with each policy's spec rewritten in the document that holds its line (None
    when one cannot be). The file is split once: the documents are rewritten from the
    last up, so the lines above each one, and its separators, are still where they were
    (a fix that removes a rule in 90 policies of a 50,000-line file)."""
    lines = text.splitlines(keepends=True)
    separators = [i for i, row in enumerate(lines) if row.rstrip() == _SEPARATOR]
    for line, policy in sorted(policies, key=lambda edit: -edit[0]):
        start = max((i + 1 for i in separators if i < line - 1), default=0)
        end = min((i for i in separators if i >= line - 1), default=len(lines))
        document = "".join(lines[start:end])
        trailing = document[len(document.rstrip("\n")) :] or "\n"
        rewritten = with_spec_replaced(document, policy)
        if rewritten is None:
            return None
        lines[start:end] = (rewritten.rstrip("\n") + trailing).splitlines(keepends=True)
    return "".join(lines)


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


def _hunks(before: list[str], after: list[str]) -> list[str]:
    """The hunks `difflib.unified_diff(before, after)` writes, after its two header lines
    (from `_LONG` lines, found by `_ManifestMatcher`)."""
    if len(after) < _LONG:
        return list(difflib.unified_diff(before, after, n=_CONTEXT))[2:]
    rows = []
    for group in _ManifestMatcher(before, after).get_grouped_opcodes(_CONTEXT):
        first, last = group[0], group[-1]
        rows.append(f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@\n")
        for tag, start, end, new_start, new_end in group:
            if tag == "equal":
                rows += (" " + row for row in before[start:end])
                continue
            rows += ("-" + row for row in before[start:end])
            rows += ("+" + row for row in after[new_start:new_end])
    return rows


Block = tuple[int, int, int]
"""Equal lines: where in the old file, where in the new one, how many (difflib's Match)."""


class _ManifestMatcher(difflib.SequenceMatcher[str]):
    """difflib's matcher, quick on a manifest file of which a fix changes a few documents.

    difflib splits the lines at the longest match it finds, then each side likewise. In a
    long range it scans every line for the longest run of equal lines that are not
    "popular" (the seed of a match, which then grows both ways): seconds on a file of tens
    of thousands of lines. There, the seed is sought only in the runs of unchanged
    documents (compared whole) and in the equal lines at either end of the range, where it
    lies when a few documents changed; short ranges are difflib's own."""

    b2j: dict[str, list[int]]
    """Set by difflib (typeshed leaves it out): where each line that may seed a match is."""

    def __init__(self, before: list[str], after: list[str]) -> None:
        super().__init__(None, before, after)
        self.before, self.after = before, after
        self.runs = _unchanged_documents(before, after)

    def find_longest_match(
        self, alo: int = 0, ahi: int | None = None, blo: int = 0, bhi: int | None = None
    ) -> difflib.Match:
        ahi = len(self.before) if ahi is None else ahi
        bhi = len(self.after) if bhi is None else bhi
        if ahi - alo + bhi - blo <= 2 * _LONG:
            return super().find_longest_match(alo, ahi, blo, bhi)
        runs = [self._grown((alo, blo, 0), alo, ahi, blo, bhi)]
        runs.append(self._grown((ahi, bhi, 0), alo, ahi, blo, bhi))
        runs += (
            self._grown(clipped, alo, ahi, blo, bhi)
            for run in self.runs
            if (clipped := _clipped(run, alo, ahi, blo, bhi)) is not None
        )
        seeds = [seed for run in runs if (seed := self._seed(run)) is not None]
        if not seeds:
            return super().find_longest_match(alo, ahi, blo, bhi)
        seed = min(seeds, key=lambda block: (-block[2], block[0], block[1]))
        return difflib.Match(*self._grown(seed, alo, ahi, blo, bhi))

    def _seed(self, run: Block) -> Block | None:
        """The run's longest stretch of lines that may seed a match (those difflib keeps
        in `b2j`: not popular), the first of equals."""
        i, j, n = run
        best: Block | None = None
        start = None
        for k in range(n + 1):
            if k < n and self.after[j + k] in self.b2j:
                start = k if start is None else start
                continue
            if start is not None and (best is None or k - start > best[2]):
                best = (i + start, j + start, k - start)
            start = None
        return best

    def _grown(self, block: Block, alo: int, ahi: int, blo: int, bhi: int) -> Block:
        """The block grown both ways over equal lines, within the range."""
        i, j, n = block
        before, after = self.before, self.after
        while i > alo and j > blo and before[i - 1] == after[j - 1]:
            i, j, n = i - 1, j - 1, n + 1
        while i + n < ahi and j + n < bhi and before[i + n] == after[j + n]:
            n += 1
        return i, j, n


def _clipped(run: Block, alo: int, ahi: int, blo: int, bhi: int) -> Block | None:
    """The part of the run within the range."""
    i, j, n = run
    start = max(alo - i, blo - j, 0)
    end = min(n, ahi - i, bhi - j)
    return (i + start, j + start, end - start) if end > start else None


def _unchanged_documents(before: list[str], after: list[str]) -> list[Block]:
    """The runs of documents the two files share, matched whole (as lines)."""
    old_starts, new_starts = _document_starts(before), _document_starts(after)
    old_documents = [tuple(before[i:j]) for i, j in pairwise(old_starts)]
    new_documents = [tuple(after[i:j]) for i, j in pairwise(new_starts)]
    matcher = difflib.SequenceMatcher(None, old_documents, new_documents, autojunk=False)
    return [
        (old_starts[i], new_starts[j], old_starts[i + n] - old_starts[i])
        for i, j, n in matcher.get_matching_blocks()
        if n
    ]


def _document_starts(lines: list[str]) -> list[int]:
    """Where each document of the lines starts (the first line, and each `---` line), and
    where the last ends."""
    separators = [i for i, row in enumerate(lines) if i and row.rstrip() == _SEPARATOR]
    return [0, *separators, len(lines)] if lines else [0]


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
