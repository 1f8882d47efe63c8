"""Did-you-mean: close names from the schema (never from a hand list)."""

from __future__ import annotations

import difflib

CUTOFF = 0.75  # difflib ratio below which a name is not offered
SHORT_CUTOFF = 0.6  # short names (enum values like AVE) differ by a larger share per letter
CLEAR_LEAD = 0.05  # a best match this much closer than the next is offered alone


def close_matches(word: str, candidates: list[str], limit: int = 3) -> list[str]:
    """Candidates close to `word`, best first; one when a single candidate clearly wins."""
    lowered = word.lower()
    exact = [c for c in candidates if c.lower() == lowered]
    if exact:
        return exact[:1]
    squashed = lowered.replace("_", "")
    same_letters = [c for c in candidates if c.lower().replace("_", "") == squashed]
    if same_letters:
        return same_letters[:1]
    cutoff = CUTOFF if len(word) > 4 else SHORT_CUTOFF
    scored = []
    matcher = difflib.SequenceMatcher(b=word)
    for candidate in candidates:
        matcher.set_seq1(candidate)
        if matcher.real_quick_ratio() >= cutoff and matcher.quick_ratio() >= cutoff:
            ratio = matcher.ratio()
            if ratio >= cutoff:
                scored.append((ratio, candidate))
    scored.sort(key=lambda rc: (-rc[0], rc[1]))
    if len(scored) >= 2 and scored[0][0] - scored[1][0] >= CLEAR_LEAD:
        return [scored[0][1]]
    return [c for _, c in scored[:limit]]
