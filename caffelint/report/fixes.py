"""What `caffelint fix` prints: a git-style diff (dry run), or what was fixed and what remains."""

from __future__ import annotations

import difflib
import os
from collections import Counter

from caffelint.findings import Finding
from caffelint.fixing import FileFix, FixReport


def render_fix_report(report: FixReport, apply: bool) -> tuple[str, str]:
    """(stdout, stderr) for a fix run: a diff and a summary, or the outcome of writing."""
    errors = [f"caffelint: error: {e}" for e in report.errors]
    errors += [f"caffelint: error: {f.error}" for f in report.failed]
    if not apply:
        diff = "".join(unified_diff(f.path, f.before, f.after) for f in sorted(report.changed, key=_path))
        return diff, "\n".join(errors + [_dry_run_summary(report)]) + "\n"
    lines = [f"Fixed {_count(f.fixed, 'finding')} in {f.path} ({_codes(f.fixed)})"
             for f in sorted(report.changed, key=_path) if f.written]
    lines += [_format_remaining(f) for f in report.remaining]
    lines.append(_applied_summary(report))
    return "\n".join(lines) + "\n", "".join(e + "\n" for e in errors)


def unified_diff(path: str, before: str, after: str) -> str:
    """A unified diff as git prints it (a/ and b/ paths, "\\ No newline at end of file")."""
    shown = _display(path)
    old, new = "a/" + shown.lstrip("/"), "b/" + shown.lstrip("/")
    out = []
    for line in difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                     old, new, n=3):
        out.append(line)
        if not line.endswith("\n"):
            out.append("\n\\ No newline at end of file\n")
    return "".join(out)


def _dry_run_summary(report: FixReport) -> str:
    fixed = report.fixed
    if fixed:
        text = f"Would fix {_count(fixed, 'finding')} in {_count(report.changed, 'file')} ({_codes(fixed)})."
        text += " Run with --apply to write the changes."
    else:
        text = f"Nothing to fix in {_count(range(report.checked), 'file')}."
    return text + _hidden(report)


def _applied_summary(report: FixReport) -> str:
    fixed = [f for r in report.changed if r.written for f in r.fixed]
    text = f"Fixed {_count(fixed, 'finding')} in {_count([r for r in report.changed if r.written], 'file')}."
    if report.remaining:
        by_severity = Counter(str(f.severity) for f in report.remaining)
        parts = [f"{by_severity[k]} {k}{'s' if by_severity[k] != 1 else ''}"
                 for k in ("error", "warning", "info") if k in by_severity]
        text += f" Remaining: {', '.join(parts)}."
    else:
        text += " Nothing remains."
    return text + _hidden(report)


def _hidden(report: FixReport) -> str:
    hidden = report.hidden_unsafe
    return f" {_count(hidden, 'more finding')} can be fixed with --unsafe-fixes." if hidden else ""


def _format_remaining(f: Finding) -> str:
    from caffelint.report.text import format_finding

    return format_finding(f)


def _count(items, noun: str) -> str:
    n = len(items) if not isinstance(items, int) else items
    return f"{n} {noun}{'s' if n != 1 else ''}"


def _codes(findings: list[Finding]) -> str:
    counts = Counter(f.code for f in findings)
    return ", ".join(f"{code} x{n}" if n > 1 else code for code, n in sorted(counts.items()))


def _path(f: FileFix) -> str:
    return f.path


def _display(path: str) -> str:
    """Relative to the working directory when below it, else absolute."""
    rel = os.path.relpath(os.path.abspath(path))
    return os.path.abspath(path) if rel.startswith("..") else rel
