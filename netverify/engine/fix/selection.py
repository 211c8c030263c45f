"""Which proved fixes are kept and how the fixes of several invariants go together: one
of the candidates that make the same policies, none that makes every edit of another and
more, and the smallest fixes as one change where their edits can be merged.
"""

from netverify.engine.fix.apply import composed, merged
from netverify.model.fix import Candidate
from netverify.model.refs import ObjectRef

Made = tuple[tuple[str, str], ...]
"""The policies a candidate makes, as `edits_key` writes them."""


def fixes_together(smallest: list[Candidate]) -> tuple[Candidate | None, tuple[str, ...]]:
    """The candidates as one, and the invariants whose candidate edits a policy an earlier
    one already edits differently, in the same rules (the two cannot both be applied).
    Edits of one policy in different rules are merged; the caller proves the union."""
    if not smallest:
        return None, ()
    together, left_out = smallest[0], []
    for candidate in smallest[1:]:
        taken = {edit.key: edit for edit in together.edits}
        edits = [
            edit
            if edit.key not in taken or taken[edit.key].after == edit.after
            else merged(taken[edit.key], edit)
            for edit in candidate.edits
        ]
        if any(edit is None for edit in edits):
            left_out.append(candidate.invariant)
        else:
            kept = tuple(edit for edit in edits if edit is not None)
            together = composed(together, candidate.model_copy(update={"edits": kept}))
    return together, tuple(left_out)


def distinct(proved: list[Candidate]) -> list[Candidate]:
    """The first of the candidates that make the same policies."""
    seen: set[Made] = set()
    kept = []
    for candidate in proved:
        key = edits_key(candidate)
        if key not in seen:
            seen.add(key)
            kept.append(candidate)
    return kept


def edits_key(candidate: Candidate) -> Made:
    """The policies the candidate makes: candidates with the same make the same cluster."""
    return tuple(sorted((str(edit.key), edit.after.model_dump_json()) for edit in candidate.edits))


def without_supersets(proved: list[Candidate]) -> list[Candidate]:
    """The candidates that do not make every edit of another proved candidate and more:
    such a fix only adds changes the invariant does not need (narrowing loadgenerator's
    egress on top of narrowing paymentservice's ingress, which alone repairs it)."""
    edits = [_edit_set(candidate) for candidate in proved]
    return [
        candidate
        for candidate, mine in zip(proved, edits, strict=True)
        if not any(other < mine for other in edits)
    ]


def makes_more_than(candidate: Candidate, proved: list[Candidate]) -> bool:
    """Whether the candidate makes every edit of a proved one and more: proved too, it would
    not be shown (`without_supersets`)."""
    mine = _edit_set(candidate)
    return any(_edit_set(other) < mine for other in proved)


def _edit_set(candidate: Candidate) -> frozenset[tuple[ObjectRef, str]]:
    return frozenset((edit.key, edit.after.model_dump_json()) for edit in candidate.edits)
