"""JSON output: one object per finding, fixes with their applicability."""

from __future__ import annotations

import json

from caffelint.findings import Finding
from caffelint.source import SourceFile


def finding_dict(f: Finding, sources: dict[str, SourceFile]) -> dict:
    fix = None
    if f.fix is not None:
        source = sources.get(f.path)
        edits = []
        for e in f.fix.edits:
            start = source.pos(e.start) if source else None
            end = source.pos(e.end) if source else None
            edits.append({
                "start": [start.line, start.column] if start else None,
                "end": [end.line, end.column] if end else None,
                "text": e.text,
            })
        fix = {"applicability": f.fix.applicability, "title": f.fix.title, "edits": edits}
    return {
        "path": f.path,
        "line": f.span.start.line,
        "column": f.span.start.column,
        "end_line": f.span.end.line,
        "end_column": f.span.end.column,
        "code": f.code,
        "name": f.name,
        "severity": str(f.severity),
        "message": f.message,
        "fix": fix,
        "notes": [{"path": n.span.path, "line": n.span.start.line, "column": n.span.start.column,
                   "message": n.message} for n in f.notes],
    }


def render(findings: list[Finding], sources: dict[str, SourceFile]) -> str:
    return json.dumps([finding_dict(f, sources) for f in findings], indent=2) + "\n"
