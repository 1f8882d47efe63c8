"""`caffelint fix`: apply the findings' fixes, round after round, and write the result.

One round lints every file (with the text fixed so far), takes the fixes
that may apply (safe ones; unsafe ones with --unsafe-fixes; never display-
only ones), sorts them by position and skips any that overlaps one already
taken, then applies them.  Rounds repeat until nothing changes, a state
comes back, or MAX_ROUNDS have run (ruff's fix loop works the same way).
A round that makes a file Caffe could read into one it cannot is refused:
that file is left as it was and reported as an error.  Writing happens only
at the end, atomically, and only with `apply`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from caffelint.config import Options, effective
from caffelint.errors import CaffelintError, InputError, UsageError
from caffelint.findings import SAFE, UNSAFE, Edit, Finding, Fix, Severity

MAX_ROUNDS = 10
# Fixes taken before all others in a round: other rules' edits assume the current format, and a
# net upgrade deferred by an overlap would leave `layer` and `layers` mixed, which Caffe refuses.
FIRST = ("deprecated-syntax",)


@dataclass
class FileFix:
    """One file's outcome: its text before and after, the findings fixed, or why it was left alone."""

    path: str
    before: str
    after: str
    fixed: list[Finding] = field(default_factory=list)
    error: str = ""
    written: bool = False
    rounds: list[tuple[str, list[Edit]]] = field(default_factory=list)  # each round's input and edits

    @property
    def changed(self) -> bool:
        return not self.error and self.after != self.before


@dataclass
class FixReport:
    files: list[FileFix]
    remaining: list[Finding]
    threshold: Severity
    apply: bool
    checked: int = 0
    errors: list[str] = field(default_factory=list)  # problems that are not about one file

    @property
    def changed(self) -> list[FileFix]:
        return [f for f in self.files if f.changed]

    @property
    def fixed(self) -> list[Finding]:
        return [finding for f in self.changed for finding in f.fixed]

    @property
    def failed(self) -> list[FileFix]:
        return [f for f in self.files if f.error]

    @property
    def hidden_unsafe(self) -> list[Finding]:
        return [f for f in self.remaining if f.fix is not None and f.fix.applicability == UNSAFE]

    @property
    def exit_code(self) -> int:
        if self.errors or self.failed:
            return 2
        if not self.apply:
            return 1 if self.changed else 0
        return 1 if any(f.severity >= self.threshold for f in self.remaining) else 0


@dataclass
class LogFixContext:
    """What the --from-log hook gets besides the log and the solver."""

    options: Options
    project: Any
    catalogue: Any
    debug: bool = False


# -- applying fixes to one text -------------------------------------------------------


def may_apply(fix: Fix | None, unsafe: bool) -> bool:
    return fix is not None and bool(fix.edits) and (
        fix.applicability == SAFE or (unsafe and fix.applicability == UNSAFE))


def apply_fixes(text: str, findings: Iterable[Finding], *, unsafe: bool = True) -> str:
    """`text` with the fixes of `findings` applied once (overlapping ones skipped): one round."""
    return apply_round(text, findings, unsafe=unsafe)[0]


def apply_round(text: str, findings: Iterable[Finding], *, unsafe: bool) -> tuple[str, list[Finding]]:
    """Apply the fixes that do not overlap, in order of position; return the text and whose fixes went in.

    A fix identical to one already taken counts as applied (two findings may
    share one fix, like the parts of one net upgrade).
    """
    candidates = sorted((f for f in findings if may_apply(f.fix, unsafe)),
                        key=lambda f: (f.name not in FIRST, f.fix.edits[0].start, f.fix.edits[-1].end, f.code))
    taken: list[Edit] = []
    taken_fixes: set[tuple[Edit, ...]] = set()
    applied: list[Finding] = []
    for finding in candidates:
        edits = finding.fix.edits
        if edits in taken_fixes:
            applied.append(finding)
            continue
        if _overlaps_itself(edits) or any(_conflict(a, b) for a in edits for b in _near(taken, a)):
            continue
        taken.extend(edits)
        taken.sort(key=lambda e: (e.start, e.end))
        taken_fixes.add(edits)
        applied.append(finding)
    return splice(text, taken), applied


def splice(text: str, edits: Iterable[Edit]) -> str:
    """`text` with non-overlapping `edits` made, in one pass."""
    out, at = [], 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        out += (text[at:edit.start], edit.text)
        at = edit.end
    out.append(text[at:])
    return "".join(out)


def _conflict(a: Edit, b: Edit) -> bool:
    """Edits that touch the same text, or insert at the same place (whose order would be a guess)."""
    if a.start < b.end and b.start < a.end:
        return True
    return a.start == b.start and (a.start == a.end or b.start == b.end)


def _overlaps_itself(edits: tuple[Edit, ...]) -> bool:
    return any(b.start < a.end for a, b in zip(edits, edits[1:]))


def _near(taken: list[Edit], edit: Edit) -> list[Edit]:
    """The taken edits that could conflict with `edit` (taken is sorted by start)."""
    import bisect

    hi = bisect.bisect_right(taken, (edit.end, float("inf")), key=lambda e: (e.start, e.end))
    return [t for t in taken[:hi] if t.end >= edit.start]


# -- the command --------------------------------------------------------------------


def fix_paths(paths: list[str], options: Options, *, apply: bool = False, from_log: str | None = None,
              follow_symlinks: bool = False, debug: bool = False) -> FixReport:
    """Fix `paths` (and the nets their solvers use); write the results when `apply`."""
    from caffelint import catalogue as catalogue_mod
    from caffelint.api import check_paths

    report = check_paths(paths, options, debug)
    files = {os.path.realpath(p.path): p for p in report.files}
    results = {real: FileFix(parsed.path, parsed.source.text, parsed.source.text) for real, parsed in files.items()}
    log_findings = _log_findings(from_log, report.project, options, catalogue_mod.load(), debug) if from_log else []
    texts: dict[str, str] = {}  # real path -> the text fixed so far
    seen = {_state(texts)}
    extra = log_findings  # a log's advice applies to the solver as it was when the log was written: once
    for _round in range(MAX_ROUNDS):
        if not _fix_round(report.findings + extra, results, files, texts, options):
            break
        extra = []
        report = check_paths(paths, options, debug, texts)
        if _state(texts) in seen:
            break
        seen.add(_state(texts))
    for real, text in texts.items():
        results[real].after = text
    if apply:
        for result in results.values():
            if result.changed:
                write_result(result, follow_symlinks)
    touched = [r for r in results.values() if r.changed or r.error]
    applied = {id(f) for r in touched for f in r.fixed}
    remaining = report.findings + [f for f in log_findings if id(f) not in applied]
    return FixReport(touched, remaining, Severity.parse(options.failure_threshold), apply, checked=len(results))


def _fix_round(findings: list[Finding], results: dict[str, FileFix], files: dict, texts: dict[str, str],
               options: Options) -> bool:
    """Apply one round of fixes to every file's current text; True if any file changed (or was refused)."""
    changed = False
    for real, own in _by_file(findings).items():
        result = results.get(real)
        if result is None or result.error:
            continue
        before = texts.get(real, result.before)
        after, applied = apply_round(before, own, unsafe=effective(options, result.path).unsafe_fixes)
        if after == before:
            continue
        changed = True
        problem = refusal(before, after, files[real].kind, options)
        if problem:
            codes = ", ".join(sorted({f.code for f in applied}))
            result.error = f"{result.path}: not fixed: the fixes of {codes} {problem}; the file is untouched"
            result.fixed, result.rounds = [], []
            texts.pop(real, None)
            continue
        texts[real] = after
        result.fixed += applied
        result.rounds.append((before, sorted({e for f in applied for e in f.fix.edits},
                                             key=lambda e: (e.start, e.end))))
    return changed


def _by_file(findings: list[Finding]) -> dict[str, list[Finding]]:
    """Findings with a fix, by the real path of their own file (a fix edits only that file)."""
    out: dict[str, list[Finding]] = {}
    for f in findings:
        if f.fix is not None:
            out.setdefault(os.path.realpath(f.path), []).append(f)
    return out


def _state(texts: dict[str, str]) -> int:
    return hash(tuple(sorted(texts.items())))


def refusal(before: str, after: str, kind: str, options: Options) -> str:
    """Why `after` must not replace `before` ("" when it may)."""
    from caffelint.syntax.parser import parse

    new_error = parse(after).error
    if new_error is not None and parse(before).error is None:
        return f"would break the syntax ({new_error.message})"
    if _text_format_error(before, kind, options) is None:
        problem = _text_format_error(after, kind, options)
        if problem is not None:
            return f"would make a file Caffe reads into one it rejects ({problem})"
    return ""


def _text_format_error(text: str, kind: str, options: Options) -> str | None:
    """What protobuf's text parser (Caffe's) says about `text` as a net or solver; None if it accepts it."""
    from google.protobuf import text_format

    from caffelint.api import load_schema

    name = "caffe.SolverParameter" if kind == "solver" else "caffe.NetParameter"
    message = load_schema(options).message_class(name)()
    try:
        text_format.Parse(text, message)
    except text_format.ParseError as exc:
        return str(exc)
    except (UnicodeError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def write_result(result: FileFix, follow_symlinks: bool) -> None:
    """Write a fixed file atomically, unless it changed on disk meanwhile (then `result.error` says so)."""
    from caffelint.source import SourceFile
    from caffelint.writer import write_text_atomic

    try:
        if SourceFile.read(result.path).text != result.before:
            raise InputError(f"{result.path}: changed on disk while caffelint was fixing it; not written")
        write_text_atomic(result.path, result.after, follow_symlinks=follow_symlinks)
    except CaffelintError as exc:
        result.error = str(exc)
        return
    result.written = True


def _log_findings(log_path: str, project, options: Options, catalogue, debug: bool) -> list[Finding]:
    """The solver changes a training log's diagnosis suggests (caffelint.logfix provides them)."""
    try:
        from caffelint.logfix import solver_findings_from_log
    except ModuleNotFoundError as exc:
        if exc.name in ("caffelint.logfix",):
            raise UsageError("--from-log is not available: this caffelint has no log-based fixes "
                             "(module caffelint.logfix is missing)") from None
        raise
    if not os.path.isfile(log_path):
        raise InputError(f"{log_path}: no such log file")
    solvers = list(project.solvers.values())
    if len(solvers) != 1:
        found = ", ".join(s.file.path for s in solvers) or "none"
        raise UsageError(f"--from-log needs exactly one solver among the paths (found {found})")
    context = LogFixContext(options, project, catalogue, debug)
    return list(solver_findings_from_log(log_path, solvers[0], context))
