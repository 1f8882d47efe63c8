"""Every example of a LOG rule is a test, run on the log text it shows.

A LOG case holds a short training log in `fail:` or `pass:` (glog prefixes are
optional: Caffe's messages alone are a log too), optionally `findings:` (the
exact [line, column] of this rule's findings), `config:` (a .caffelint.yaml
written beside the log) and `filename:`.  `fail` must give this rule at least
one finding, `pass` none.  A case with `solver:` and `fix:` also runs
`caffelint fix --from-log`'s hook (caffelint.logfix) on that solver: applying
this rule's unsafe fixes must give exactly `fix`, and a second round on the
fixed solver, with the same log, must change nothing.
"""

from __future__ import annotations

import pytest
import yaml

from caffelint import catalogue
from caffelint.api import check_paths
from caffelint.config import Options
from caffelint.fixing import LogFixContext, apply_fixes
from caffelint.logdiag import diagnose_log
from caffelint.logfix import solver_findings_from_log

CASES = [
    pytest.param(spec, case, id=f"{spec.code}:{case.get('id', i)}")
    for spec in catalogue.load()
    if spec.group == "log"
    for i, case in enumerate(spec.cases)
]


def test_there_are_log_cases():
    assert len(CASES) >= 17 * 2


@pytest.mark.parametrize(("spec", "case"), CASES)
def test_log_case(spec, case, tmp_path):
    text = case.get("fail", case.get("pass"))
    path = tmp_path / case.get("filename", "train.log")
    path.write_text(text, encoding="utf-8")
    if case.get("config"):
        (tmp_path / ".caffelint.yaml").write_text(yaml.safe_dump(case["config"]), encoding="utf-8")
    report = diagnose_log(str(path), Options.from_kwargs(select=(spec.code,)))
    found = [f for f in report.findings if f.code == spec.code]
    assert not [f for f in report.findings if f.name == "internal-error"], report.findings
    if "pass" in case:
        assert found == [], f"{spec.name} fired on a pass case: {[f.message for f in found]}"
        return
    assert found, f"{spec.name} did not fire on its fail case"
    for f in found:
        assert f.message and not f.message.endswith("."), f.message
    if "findings" in case:
        assert [[f.span.start.line, f.span.start.column] for f in found] == case["findings"]


FIX_CASES = [p for p in CASES if "fix" in p.values[1]]


def test_rules_that_offer_fixes_show_one():
    offering = {p.values[0].code for p in CASES if p.values[0].fix != "none"}
    assert offering == {p.values[0].code for p in FIX_CASES}
    assert {"LOG001", "LOG005", "LOG008", "LOG012"} <= offering


def _fix_round(spec, log_path, solver_path):
    options = Options.from_kwargs(select=(spec.code,), kind="solver")
    project = check_paths([str(solver_path)], options).project
    solver = next(iter(project.solvers.values()))
    findings = solver_findings_from_log(str(log_path), solver, LogFixContext(options, project, catalogue.load()))
    assert all(f.code == spec.code and f.fix.applicability == "unsafe" for f in findings)
    return apply_fixes(solver_path.read_text(encoding="utf-8"), findings, unsafe=True)


@pytest.mark.parametrize(("spec", "case"), FIX_CASES)
def test_log_fix_case(spec, case, tmp_path):
    log_path, solver_path = tmp_path / "train.log", tmp_path / "solver.prototxt"
    log_path.write_text(case["fail"], encoding="utf-8")
    solver_path.write_text(case["solver"], encoding="utf-8")
    fixed = _fix_round(spec, log_path, solver_path)
    assert fixed == case["fix"]
    solver_path.write_text(fixed, encoding="utf-8")
    assert _fix_round(spec, log_path, solver_path) == fixed, "a second round must change nothing"
