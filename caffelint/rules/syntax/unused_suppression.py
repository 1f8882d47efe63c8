"""PRS008 unused-suppression (catalogue: rules/PRS008.yaml).

Reported by the engine after every other rule has run (caffelint/suppressions.py
knows what each directive suppressed); this module words the findings and their fixes.
"""

from __future__ import annotations

from collections.abc import Iterable

from caffelint.edits import after_line_end, line_start
from caffelint.findings import SAFE, UNSAFE, Edit, Finding, Fix, Problem


def unused_suppression_findings(directives: list, parsed, stamper, defer: Iterable[str] = ()) -> list[Finding]:
    """One finding per directive that names a rule it never suppresses (codes in `defer` not judged)."""
    if parsed.doc.error is not None:
        return []  # the semantic rules did not run, so their suppressions cannot be judged
    out = []
    for d in directives:
        problem = _problem(d, parsed, stamper, set(defer))
        if problem is not None:
            finding = stamper.stamp(problem, parsed.source)
            if finding is not None:
                out.append(finding)
    return out


def _problem(d, parsed, stamper, defer: set[str]) -> Problem | None:
    if d.verb is None:
        return Problem("unused-suppression", d.start, d.end, "not a caffelint directive: write "
                       "`# caffelint: disable=RULE`, `enable=RULE` or `disable-file=RULE` (RULE: a code, a "
                       "name or all)")
    unused, unknown, never_disabled, found_nothing = [], [], [], []
    for c in d.codes:
        if c.code is None:
            unknown.append(repr(c.text))
        elif c.code in defer or c.code in d.used or not _judged(c.code, d, stamper):
            continue
        elif d.verb == "enable":
            never_disabled.append(c.text)
        else:
            found_nothing.append(c.text)
        unused.append(c)
    reasons = []
    if found_nothing:
        reasons.append(f"no {_either(found_nothing)} finding {_where(d)}")
    if never_disabled:
        reasons.append(f"nothing disables {_either(never_disabled)} before it")
    if unknown:
        reasons.append(f"{_either(unknown)} {'is not a rule' if len(unknown) == 1 else 'are not rules'}")
    if not unused:
        return None
    whole = len(unused) == len(d.codes)
    edit = _remove_comment(parsed, d) if whole else _remove_codes(parsed, d, unused)
    title = "Remove the unused suppression" if whole else \
        f"Remove {', '.join(c.text for c in unused)} from the suppression"
    return Problem("unused-suppression", d.start, d.end, "unused suppression: " + "; ".join(reasons),
                   Fix(title, UNSAFE if whole and _has_remark(parsed, d) else SAFE, (edit,)))


def _either(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _judged(code: str, d, stamper) -> bool:
    """Only rules that ran can be said to have found nothing (an enable is judged regardless)."""
    if code == "all" or d.verb == "enable":
        return True
    spec = stamper.catalogue.get(code)
    if spec is None or spec.code not in stamper.enabled:
        return False
    return not (spec.group == "data" and stamper.options.no_data)


def _where(d) -> str:
    if d.verb == "disable-file":
        return "in this file"
    if not d.own_line:
        return "on this line"
    return "before its enable" if d.ranged else "in the next field"


def _has_remark(parsed, d) -> bool:
    """Words after the rule list (a reason); removing them drops a comment, so the fix is unsafe."""
    return parsed.source.text[d.codes[-1].end:d.end].strip() != ""


def _remove_comment(parsed, d) -> Edit:
    text = parsed.source.text
    if d.own_line:
        return Edit(line_start(text, d.start), after_line_end(text, d.end), "")
    start = d.start
    while start > 0 and text[start - 1] in " \t":
        start -= 1
    return Edit(start, d.end, "")


def _remove_codes(parsed, d, unused: list) -> Edit:
    text = parsed.source.text
    first, last = d.codes[0], d.codes[-1]
    separator = ", " if ", " in text[first.start:last.end] else ","
    kept = [c.text for c in d.codes if c not in unused]
    return Edit(first.start, last.end, separator.join(kept))
