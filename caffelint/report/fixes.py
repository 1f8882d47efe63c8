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


def unified_diff(path: str, before: str, after: str, context: int = 3) -> str:
    """A unified diff as git prints it: a/ and b/ paths, a shortest edit script (Myers, as git's
    default), insertions placed where a block begins, "\\ No newline at end of file"."""
    shown = _display(path).lstrip("/")
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    groups = list(_Matcher(None, old, new, autojunk=False).get_grouped_opcodes(context))
    if not groups:
        return ""
    out = [f"--- a/{shown}\n", f"+++ b/{shown}\n"]
    for group in groups:
        first, last = group[0], group[-1]
        out.append(f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@\n")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out += [_line(" ", x) for x in old[i1:i2]]
                continue
            out += [_line("-", x) for x in old[i1:i2]]
            out += [_line("+", x) for x in new[j1:j2]]
    return "".join(out)


def _line(mark: str, text: str) -> str:
    return mark + text if text.endswith("\n") else f"{mark}{text}\n\\ No newline at end of file\n"


def _range(start: int, stop: int) -> str:
    """difflib's and git's -l,s notation (1-based; an empty range names the line before it)."""
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start + 1 if length else start},{length}"


class _Matcher(difflib.SequenceMatcher):
    """difflib's hunk grouping over minimal opcodes (difflib's own matching can misalign blocks)."""

    def get_opcodes(self):
        return line_opcodes(self.a, self.b)


def line_opcodes(a: list[str], b: list[str]) -> list[tuple[str, int, int, int, int]]:
    """(tag, i1, i2, j1, j2) opcodes of a shortest edit script from `a` to `b`."""
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    steps = _myers(a[head:len(a) - tail], b[head:len(b) - tail])
    ops: list[list] = []
    x = y = head
    for step in steps:
        dx, dy = (1, 1) if step == "=" else (1, 0) if step == "-" else (0, 1)
        tag = "equal" if step == "=" else "change"
        if ops and ops[-1][0] == tag:
            ops[-1][2] += dx
            ops[-1][4] += dy
        else:
            ops.append([tag, x, x + dx, y, y + dy])
        x, y = x + dx, y + dy
    ops = [["equal", 0, head, 0, head], *ops, ["equal", len(a) - tail, len(a), len(b) - tail, len(b)]]
    out = []
    for tag, i1, i2, j1, j2 in _slide(ops, a, b):
        if tag == "change":
            tag = "replace" if i2 > i1 and j2 > j1 else "delete" if i2 > i1 else "insert"
        out.append((tag, i1, i2, j1, j2))
    return out or [("equal", 0, 0, 0, 0)]


def _myers(a: list[str], b: list[str]) -> list[str]:
    """Eugene Myers' O(ND) shortest edit script: "=" keep, "-" delete from a, "+" insert from b."""
    n, m = len(a), len(b)
    offset = n + m + 1
    v = [0] * (2 * offset + 1)
    trace = []
    for d in range(n + m + 1):
        trace.append(v[offset - d - 1:offset + d + 2])
        for k in range(-d, d + 1, 2):
            down = k == -d or (k != d and v[offset + k - 1] < v[offset + k + 1])
            x = v[offset + k + 1] if down else v[offset + k - 1] + 1
            y = x - k
            while x < n and y < m and a[x] == b[y]:
                x, y = x + 1, y + 1
            v[offset + k] = x
            if x >= n and y >= m:
                return _backtrack(trace, n, m)
    return []


def _backtrack(trace: list[list[int]], n: int, m: int) -> list[str]:
    steps: list[str] = []
    x, y = n, m
    for d in range(len(trace) - 1, -1, -1):
        v = trace[d]  # v[k + d + 1] is the furthest x on diagonal k after d - 1 edits
        k = x - y
        down = k == -d or (k != d and v[k - 1 + d + 1] < v[k + 1 + d + 1])
        prev_k = k + 1 if down else k - 1
        prev_x = v[prev_k + d + 1] if d > 0 else 0
        prev_y = prev_x - prev_k if d > 0 else 0
        while x > prev_x and y > prev_y:
            steps.append("=")
            x, y = x - 1, y - 1
        if d > 0:
            steps.append("+" if x == prev_x else "-")
        x, y = prev_x, prev_y
    return steps[::-1]


def _slide(ops: list[list], a: list[str], b: list[str]) -> list[list]:
    """Move each pure insertion or deletion to where its first line is least indented.

    A block such as `layer { ... }` inserted between two layers matches the
    lines around it in several places; all are shortest, the one starting at
    `layer {` is the one a person would write.
    """
    for i in range(1, len(ops) - 1):
        prev, op, nxt = ops[i - 1], ops[i], ops[i + 1]
        if op[0] != "change" or prev[0] != "equal" or nxt[0] != "equal" or (op[2] > op[1] and op[4] > op[3]):
            continue
        lines, lo, hi = (b, op[3], op[4]) if op[4] > op[3] else (a, op[1], op[2])
        shift, best = 0, None
        up = 0
        while up < prev[2] - prev[1] and lines[lo - up - 1] == lines[hi - up - 1]:
            up += 1
        down = 0
        while down < nxt[2] - nxt[1] and lines[lo + down] == lines[hi + down]:
            down += 1
        for s in range(-up, down + 1):
            first, last = lines[lo + s], lines[hi - 1 + s]
            score = (_indent(first), _indent(last), -s)
            if best is None or score < best:
                best, shift = score, s
        if shift:
            prev[2] += shift
            prev[4] += shift
            op[1] += shift
            op[2] += shift
            op[3] += shift
            op[4] += shift
            nxt[1] += shift
            nxt[3] += shift
    return [op for op in ops if op[1] != op[2] or op[3] != op[4]]


def _indent(line: str) -> int:
    stripped = line.lstrip(" \t")
    return len(line) - len(stripped) if stripped.strip() else 1 << 16


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
