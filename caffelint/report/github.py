"""GitHub Actions workflow commands: one annotation per finding.

    ::error file=net.prototxt,line=3,col=5,endLine=3,endColumn=9,title=caffelint (NET001)::undefined-bottom: ...

Levels: error, warning, notice (for info).  Values are escaped as the Actions
runner expects: % CR LF in the message, and also : and , in properties.
"""

from __future__ import annotations

from caffelint.findings import Finding, Severity

LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def render(findings: list[Finding]) -> str:
    return "".join(annotation(f) + "\n" for f in findings)


def annotation(f: Finding) -> str:
    start, end = f.span.start, f.span.end
    props = {
        "file": f.path, "line": start.line, "col": start.column,
        "endLine": end.line, "endColumn": end.column, "title": f"caffelint ({f.code})",
    }
    text = ",".join(f"{key}={_property(str(value))}" for key, value in props.items())
    message = f"{f.name}: {f.message}"
    if f.fix is not None:
        message += f" [{f.fix.applicability} fix: {f.fix.title}]"
    return f"::{LEVELS[f.severity]} {text}::{_data(message)}"


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
