"""Report formats on findings from real files: SARIF 2.1.0 validated against the published schema,
GitHub annotations with their escaping, statistics, and the text format with notes."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from caffelint.api import check_paths
from caffelint.catalogue import load
from caffelint.config import Options
from caffelint.errors import UsageError
from caffelint.findings import Finding, Pos, Severity, Span
from caffelint.report import render
from tests.conftest import shared_dir

# SLV015 with a note and a safe fix, SLV010 after a non-ASCII string on its line, SLV011 (info) with an
# unsafe insertion at the end of the file.
SOLVER = 'net: "n.prototxt"\nsolver_type: SGD\ntype: "SGD"\nsnapshot_prefix: "é/x" debug_info: true\n' \
         'base_lr: 0.01\n'


@pytest.fixture
def report(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my solver.prototxt").write_text(SOLVER, encoding="utf-8")
    rules = ("SLV010", "SLV011", "SLV015")
    return check_paths(["my solver.prototxt"], Options.from_kwargs(select=rules, isolated=True))


@pytest.fixture(scope="module")
def sarif_schema():
    return json.loads((shared_dir() / "reference" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


def by_code(findings, code):
    return next(f for f in findings if f.code == code)


# -- SARIF -----------------------------------------------------------------------------------------


def test_sarif_validates_against_the_schema(report, sarif_schema):
    log = json.loads(render("sarif", report))
    jsonschema.validators.validator_for(sarif_schema)(sarif_schema).validate(log)
    assert log["version"] == "2.1.0" and len(log["runs"]) == 1


def test_sarif_lists_every_rule_with_its_metadata(report):
    driver = json.loads(render("sarif", report))["runs"][0]["tool"]["driver"]
    specs = list(load())
    assert [r["id"] for r in driver["rules"]] == [s.code for s in specs]
    rule = next(r for r in driver["rules"] if r["id"] == "SLV011")
    assert rule["name"] == "weight-decay-missing"
    assert rule["shortDescription"]["text"] == load()["SLV011"].summary
    assert "weight_decay" in rule["help"]["text"]
    assert rule["defaultConfiguration"]["level"] == "note"


def test_sarif_results_point_at_one_based_code_point_regions(report):
    run = json.loads(render("sarif", report))["runs"][0]
    assert run["columnKind"] == "unicodeCodePoints"
    result = next(r for r in run["results"] if r["ruleId"] == "SLV010")
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "SLV010"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "my%20solver.prototxt", "uriBaseId": "%SRCROOT%"}
    # `snapshot_prefix: "é/x" debug_info: true`: the é is one column, so `true` starts at column 36.
    assert location["region"] == {"startLine": 4, "startColumn": 36, "endLine": 4, "endColumn": 40}
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"].startswith("file:///")


def test_sarif_fixes_and_related_locations(report):
    results = json.loads(render("sarif", report))["runs"][0]["results"]
    conflict = next(r for r in results if r["ruleId"] == "SLV015")
    assert conflict["relatedLocations"][0]["physicalLocation"]["region"]["startLine"] == 3
    [fix] = conflict["fixes"]
    assert fix["description"]["text"] == "Remove the deprecated solver_type"
    assert fix["properties"]["applicability"] == "safe"
    [change] = fix["artifactChanges"]
    assert change["replacements"] == [{"deletedRegion": {"startLine": 2, "startColumn": 1, "endLine": 3,
                                                         "endColumn": 1}, "insertedContent": {"text": ""}}]
    insertion = next(r for r in results if r["ruleId"] == "SLV011")["fixes"][0]["artifactChanges"][0]
    region = insertion["replacements"][0]["deletedRegion"]
    assert (region["startLine"], region["startColumn"]) == (region["endLine"], region["endColumn"])
    assert insertion["replacements"][0]["insertedContent"]["text"] == "\nweight_decay: 0.0005"


def test_sarif_absolute_paths_are_file_uris(tmp_path, sarif_schema):
    (tmp_path / "s.prototxt").write_text('net: "n.prototxt"\ndebug_info: true\n', encoding="utf-8")
    found = check_paths([str(tmp_path / "s.prototxt")], Options.from_kwargs(select=("SLV010",), isolated=True))
    log = json.loads(render("sarif", found))
    artifact = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": (tmp_path / "s.prototxt").as_uri()}
    jsonschema.validators.validator_for(sarif_schema)(sarif_schema).validate(log)


def test_sarif_of_a_clean_run_is_still_a_valid_log(tmp_path, monkeypatch, sarif_schema):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.prototxt").write_text('net: "n.prototxt"\n', encoding="utf-8")
    log = json.loads(render("sarif", check_paths(["s.prototxt"], Options.from_kwargs(select=("SLV010",)))))
    assert log["runs"][0]["results"] == []
    jsonschema.validators.validator_for(sarif_schema)(sarif_schema).validate(log)


# -- GitHub annotations ----------------------------------------------------------------------------


def test_github_annotations(report):
    lines = render("github", report).splitlines()
    assert len(lines) == 3
    debug = next(line for line in lines if "SLV010" in line)
    assert debug.startswith("::warning file=my solver.prototxt,line=4,col=36,endLine=4,endColumn=40,"
                            "title=caffelint (SLV010)::debug-info-enabled: debug_info is true")
    assert next(line for line in lines if "SLV011" in line).startswith("::notice ")
    assert next(line for line in lines if "SLV015" in line).startswith("::error ")


def test_github_escapes_properties_and_messages():
    from caffelint.report.github import annotation

    span = Span("a,b:c%.prototxt", Pos(1, 1, 0), Pos(1, 2, 1))
    finding = Finding("SLV010", "debug-info-enabled", Severity.ERROR, "100% sure\nnext line", span)
    assert annotation(finding) == ("::error file=a%2Cb%3Ac%25.prototxt,line=1,col=1,endLine=1,endColumn=2,"
                                   "title=caffelint (SLV010)::debug-info-enabled: 100%25 sure%0Anext line")


# -- statistics, text, concise ---------------------------------------------------------------------


def test_statistics_count_rules_and_their_fixes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("a.prototxt", "b.prototxt"):
        (tmp_path / name).write_text('net: "n.prototxt"\ndebug_info: true\n', encoding="utf-8")
    found = check_paths(["a.prototxt", "b.prototxt"], Options.from_kwargs(select=("SLV010", "SLV023"),
                                                                          isolated=True))
    rows = json.loads(render("json", found, statistics=True))
    assert rows == [
        {"code": "SLV010", "name": "debug-info-enabled", "severity": "warning", "count": 2,
         "fixable": {"safe": 0, "unsafe": 2}},
        {"code": "SLV023", "name": "display-missing", "severity": "warning", "count": 2,
         "fixable": {"safe": 2, "unsafe": 0}},
    ]
    text = render("text", found, statistics=True)
    assert text.splitlines() == [
        "2  SLV010  warning  debug-info-enabled  fixable: 2 unsafe",
        "2  SLV023  warning  display-missing     fixable: 2 safe",
        "Found 4 findings from 2 rules.",
    ]


def test_statistics_cannot_be_sarif(report):
    with pytest.raises(UsageError):
        render("sarif", report, statistics=True)


def test_text_shows_fixes_notes_and_a_summary(report):
    text = render("text", report)
    conflict = next(line for line in text.splitlines() if "SLV015" in line)
    assert conflict.startswith("my solver.prototxt:2:14: SLV015 [error] solver-type-conflict: ")
    assert conflict.endswith("[safe fix: Remove the deprecated solver_type]")
    assert "\n    my solver.prototxt:3:7: note: type 'SGD' is set here\n" in text
    assert text.endswith("Found 1 error, 1 warning, 1 info in 1 file. 1 fixable with `caffelint fix --apply`. "
                         "2 more with --unsafe-fixes.\n")


def test_concise_is_one_line_per_finding(report):
    lines = render("concise", report).splitlines()
    assert len(lines) == 3 and not any("fix:" in line or "note:" in line for line in lines)


def test_json_output_keeps_positions_and_fixes(report):
    items = json.loads(render("json", report))
    conflict = next(i for i in items if i["code"] == "SLV015")
    assert (conflict["line"], conflict["column"], conflict["fix"]["applicability"]) == (2, 14, "safe")
    assert Path(conflict["path"]).name == "my solver.prototxt"
