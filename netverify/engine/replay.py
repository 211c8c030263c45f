"""The one error of every engine that replays what it found through the reference evaluator.

Proving, the matrix and the diff each decide flows their own fast way (Z3 terms, bit sets)
and confirm every witness with `netverify.semantics.evaluate`, the definition of "allowed".
A disagreement is never reported as a finding: it is this error, a soundness bug.
"""


class ReplayMismatch(Exception):
    """The fast decision (the encoding's or the bit sets') and the reference evaluator
    disagree on a witness: a soundness bug, to be reported as an internal error."""
