"""Every example in the catalogue is a test: fail cases trigger their rule, pass cases do not.

A case with `fix` must turn into exactly that text when the rule's fixes are
applied; the result must parse with text_format, lint clean for the rule, and
offer no further fix.  The runner works through the real pipeline
(files on disk, config files, check_paths), as a user would.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from caffelint import catalogue
from caffelint.api import check_paths
from caffelint.config import Options

CATALOGUE = catalogue.load()
CASES = [
    pytest.param(spec, case, id=f"{spec.code}:{case.get('id', i)}")
    for spec in CATALOGUE
    if spec.group != "log"  # log rules read training logs: tests/unit/test_log_cases.py runs them
    for i, case in enumerate(spec.cases)
]


def write_case(tmp_path: Path, spec, case: dict) -> tuple[Path, str | None]:
    """Write the case (and any extra files, data and config) into tmp_path; return the checked file."""
    kind = case.get("kind") or {"net": "net", "solver": "solver", "data": "net"}.get(spec.group)
    name = case.get("filename") or f"{kind or 'case'}.prototxt"
    text = case.get("fail", case.get("pass"))
    for extra, content in (case.get("files") or {}).items():
        target = tmp_path / extra
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8", newline="")
    if case.get("data"):
        from fixtures import build_data

        for target, builder in case["data"].items():
            getattr(build_data, builder)(tmp_path / target)
    if case.get("config"):
        (tmp_path / ".caffelint.yaml").write_text(yaml.safe_dump(case["config"]), encoding="utf-8")
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path, kind


def run_rule(path: Path, spec, kind: str | None):
    options = Options.from_kwargs(select=(spec.code,), kind=kind, root=str(path.parent))
    cwd = os.getcwd()
    os.chdir(path.parent)  # Caffe resolves relative paths against the working directory
    try:
        report = check_paths([str(path)], options)
    finally:
        os.chdir(cwd)
    return [f for f in report.findings if f.code == spec.code and Path(f.path).name == path.name]


def apply_rule_fixes(text: str, findings) -> str:
    """Apply each finding's fix once, skipping edits that overlap one already taken."""
    edits = sorted((e for f in findings if f.fix for e in f.fix.edits), key=lambda e: (e.start, e.end))
    out, last = [], 0
    for edit in edits:
        if edit.start < last:
            continue
        out.append(text[last:edit.start] + edit.text)
        last = edit.end
    out.append(text[last:])
    return "".join(out)


@pytest.mark.parametrize(("spec", "case"), CASES)
def test_case(spec, case, tmp_path):
    path, kind = write_case(tmp_path, spec, case)
    findings = run_rule(path, spec, kind)
    if "pass" in case:
        assert findings == [], f"{spec.name} fired on a pass case: {[f.message for f in findings]}"
        return
    assert findings, f"{spec.name} did not fire on a fail case"
    if "findings" in case:
        got = sorted([f.span.start.line, f.span.start.column] for f in findings)
        assert got == sorted(case["findings"]), [f.message for f in findings]
    if "fix" not in case:
        assert all(f.fix is None for f in findings), "a fail case without `fix` must offer no fix"
        return
    fixed = apply_rule_fixes(case["fail"], findings)
    assert fixed == case["fix"]
    _assert_parses(fixed, kind or _kind_of(path))
    path.write_bytes(fixed.encode("utf-8"))
    remaining = run_rule(path, spec, kind)
    assert not [f for f in remaining if f.fix is not None], "fixing again would change the file"


def _kind_of(path: Path) -> str:
    from caffelint.model.files import detect_kind
    from caffelint.schema.descriptors import default_schema
    from caffelint.syntax.parser import parse

    return detect_kind(parse(path.read_text(encoding="utf-8")), default_schema(), str(path))[0]


def _assert_parses(text: str, kind: str) -> None:
    from google.protobuf import text_format

    from caffelint.schema import caffe_pb2

    message = caffe_pb2.SolverParameter() if kind == "solver" else caffe_pb2.NetParameter()
    text_format.Parse(text, message)
