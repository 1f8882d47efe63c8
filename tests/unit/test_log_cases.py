"""Every example of a LOG rule is a test, run on the log text it shows.

A LOG case holds a short training log in `fail:` or `pass:` (glog prefixes are
optional: Caffe's messages alone are a log too), optionally `findings:` (the
exact [line, column] of this rule's findings), `config:` (a .caffelint.yaml
written beside the log) and `filename:`.  `fail` must give this rule at least
one finding, `pass` none.
"""

from __future__ import annotations

import pytest
import yaml

from caffelint import catalogue
from caffelint.config import Options
from caffelint.logdiag import diagnose_log

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
