"""Human output: `path:line:col: CODE [severity] name: message`, then its notes and a summary."""

from __future__ import annotations

from caffelint.findings import Finding


def format_finding(f: Finding, show_fix: bool = True) -> str:
    line = f"{f.path}:{f.span.start.line}:{f.span.start.column}: {f.code} [{f.severity}] {f.name}: {f.message}"
    if show_fix and f.fix is not None:
        line += f" [{f.fix.applicability} fix: {f.fix.title}]"
    return line


def format_notes(f: Finding) -> list[str]:
    """The finding's related places, indented under it."""
    return [f"    {n.span.path}:{n.span.start.line}:{n.span.start.column}: note: {n.message}" for n in f.notes]


def render(findings: list[Finding]) -> str:
    lines = []
    for f in findings:
        lines.append(format_finding(f))
        lines.extend(format_notes(f))
    return "\n".join(lines) + ("\n" if lines else "")


def summary(findings: list[Finding], files: int) -> str:
    if not findings:
        return f"All clean: {files} file{'s' if files != 1 else ''} checked.\n"
    counts: dict[str, int] = {}
    for f in findings:
        counts[str(f.severity)] = counts.get(str(f.severity), 0) + 1
    parts = [f"{counts[k]} {k}{'s' if counts[k] != 1 else ''}" for k in ("error", "warning", "info") if k in counts]
    fixable = sum(1 for f in findings if f.fix is not None and f.fix.applicability == "safe")
    hidden = sum(1 for f in findings if f.fix is not None and f.fix.applicability == "unsafe")
    text = f"Found {', '.join(parts)} in {files} file{'s' if files != 1 else ''}."
    if fixable:
        text += f" {fixable} fixable with `caffelint fix --apply`."
    if hidden:
        text += f" {hidden} more with --unsafe-fixes."
    return text + "\n"
