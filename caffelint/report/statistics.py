"""`--statistics`: how many findings each rule produced, and how many it can fix."""

from __future__ import annotations

import json
from collections import Counter

from caffelint.errors import UsageError
from caffelint.findings import SAFE, UNSAFE, Finding


def render(findings: list[Finding], output_format: str = "text") -> str:
    """One row per rule, most frequent first: count, code, severity, name, fixable counts."""
    if output_format == "sarif":
        raise UsageError("--statistics cannot be written as SARIF (use --format text or json)")
    rows = _rows(findings)
    if output_format == "json":
        return json.dumps(rows, indent=2) + "\n"
    if not rows:
        return "No findings.\n"
    width = max(len(r["name"]) for r in rows)
    digits = max(len(str(r["count"])) for r in rows)
    lines = []
    for r in rows:
        fixes = ", ".join(f"{n} {kind}" for kind, n in r["fixable"].items() if n)
        line = f"{r['count']:>{digits}}  {r['code']}  {r['severity']:<7}  {r['name']:<{width}}"
        lines.append((line + (f"  fixable: {fixes}" if fixes else "")).rstrip())
    total = sum(r["count"] for r in rows)
    lines.append(f"Found {total} finding{'s' if total != 1 else ''} from {len(rows)} "
                 f"rule{'s' if len(rows) != 1 else ''}.")
    return "\n".join(lines) + "\n"


def _rows(findings: list[Finding]) -> list[dict]:
    counts = Counter(f.code for f in findings)
    first = {}
    fixable: dict[str, Counter] = {}
    for f in findings:
        first.setdefault(f.code, f)
        if f.fix is not None and f.fix.applicability in (SAFE, UNSAFE):
            fixable.setdefault(f.code, Counter())[f.fix.applicability] += 1
    rows = []
    for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        f = first[code]
        fixes = fixable.get(code, Counter())
        rows.append({"code": code, "name": f.name, "severity": str(f.severity), "count": count,
                     "fixable": {SAFE: fixes[SAFE], UNSAFE: fixes[UNSAFE]}})
    return rows
