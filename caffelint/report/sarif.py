"""SARIF 2.1.0 output, for GitHub code scanning and other SARIF viewers.

Every catalogue rule is listed under tool.driver.rules (id, name, descriptions,
help, default level); each finding is a result with a 1-based region whose
columns count Unicode code points (run.columnKind), its notes as related
locations and its fix as a SARIF fix with artifactChanges.
Schema: https://json.schemastore.org/sarif-2.1.0.json
"""

from __future__ import annotations

import json
import os
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from caffelint import __version__
from caffelint.findings import Finding, Fix, Severity, Span
from caffelint.source import SourceFile

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def render(findings: list[Finding], sources: dict[str, SourceFile]) -> str:
    """The findings as one SARIF log (a single run of caffelint)."""
    from caffelint import catalogue as catalogue_mod

    specs = list(catalogue_mod.load())
    index = {spec.code: i for i, spec in enumerate(specs)}
    run = {
        "tool": {"driver": {
            "name": "caffelint",
            "version": __version__,
            "semanticVersion": __version__,
            "rules": [_rule(spec) for spec in specs],
        }},
        "originalUriBaseIds": {SRCROOT: {"uri": Path(os.getcwd()).as_uri() + "/"}},
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, index.get(f.code), sources) for f in findings],
    }
    log = {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _rule(spec) -> dict:
    help_text = f"{spec.rationale}\n\nRun `caffelint explain {spec.code}` for an example."
    return {
        "id": spec.code,
        "name": spec.name,
        "shortDescription": {"text": spec.summary},
        "fullDescription": {"text": spec.rationale or spec.summary},
        "help": {"text": help_text, "markdown": help_text},
        "defaultConfiguration": {"level": LEVELS[spec.severity]},
        "properties": {"tags": [spec.group, spec.tier], "fix": spec.fix},
    }


def _result(f: Finding, rule_index: int | None, sources: dict[str, SourceFile]) -> dict:
    result: dict = {
        "ruleId": f.code,
        "level": LEVELS[f.severity],
        "message": {"text": f.message},
        "locations": [_location(f.span)],
    }
    if rule_index is not None:
        result["ruleIndex"] = rule_index
    if f.notes:
        result["relatedLocations"] = [dict(_location(n.span), id=i, message={"text": n.message})
                                      for i, n in enumerate(f.notes)]
    if f.fix is not None:
        result["fixes"] = [_fix(f.fix, f.path, sources.get(f.path))]
    return result


def _location(span: Span) -> dict:
    return {"physicalLocation": {"artifactLocation": _artifact(span.path), "region": {
        "startLine": span.start.line, "startColumn": span.start.column,
        "endLine": span.end.line, "endColumn": span.end.column,
    }}}


def _fix(fix: Fix, path: str, source: SourceFile | None) -> dict:
    replacements = []
    for edit in fix.edits:
        if source is not None:
            start, end = source.pos(edit.start), source.pos(edit.end)
            region = {"startLine": start.line, "startColumn": start.column,
                      "endLine": end.line, "endColumn": end.column}
        else:
            region = {"charOffset": edit.start, "charLength": edit.end - edit.start}
        replacements.append({"deletedRegion": region, "insertedContent": {"text": edit.text}})
    return {
        "description": {"text": fix.title},
        "artifactChanges": [{"artifactLocation": _artifact(path), "replacements": replacements}],
        "properties": {"applicability": fix.applicability},
    }


def _artifact(path: str) -> dict:
    """A file URI: absolute paths as file:// URIs, relative ones under %SRCROOT% (the working folder)."""
    if os.path.isabs(path):
        return {"uri": Path(path).as_uri()}
    posix = PurePosixPath(*Path(path).parts).as_posix()
    return {"uri": quote(posix, safe="/._-~"), "uriBaseId": SRCROOT}
