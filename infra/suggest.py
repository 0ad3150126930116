"""Did-you-mean for names a user types: stack file keys, config namespaces, policy names.

The rule is the Pulumi CLI's for misspelled attributes of ``Pulumi.yaml`` (``findClosestKey`` in
pulumi/pulumi ``sdk/go/common/workspace/project.go``, read 2026-11-24): the candidate with the smallest
Levenshtein distance, compared case-insensitively, at most 2 edits away; ties go to the first alphabetically.
"""

from __future__ import annotations

from collections.abc import Iterable

MAX_DISTANCE = 2
"""The most edits a misspelling may be from the name it is taken for."""


def distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions and substitutions of one character each cost 1)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, left in enumerate(a, 1):
        current = [i]
        for j, right in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (left != right)))
        previous = current
    return previous[-1]


def closest(word: str, candidates: Iterable[str], max_distance: int = MAX_DISTANCE) -> str | None:
    """The candidate ``word`` is most likely a misspelling of, or None when none is within ``max_distance``."""
    best: tuple[int, str] | None = None
    lowered = word.lower()
    if len(lowered) > 200:  # a name this long is no misspelling of ours, and the comparison is quadratic
        return None
    for candidate in sorted(set(candidates)):
        score = distance(lowered, candidate.lower())
        if score <= max_distance and (best is None or score < best[0]):
            best = (score, candidate)
    return best[1] if best else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """``"did you mean 'config'? "`` when ``word`` is a likely misspelling of a candidate, else ``""``: the start
    of the clause that goes before a message's list of what is valid."""
    hint = closest(word, candidates)
    return f"did you mean {hint!r}? " if hint else ""
