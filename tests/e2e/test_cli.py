"""The command line as a user runs it, in a subprocess: exit codes, every output format, output
files, configuration and suppressions, the rule catalogue, and one-line errors (never a traceback)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import shared_dir

NET = (
    'name: "tiny"\n'
    'layer { name: "data" type: "Input" top: "data" top: "label" '
    'input_param { shape { dim: 2 dim: 4 } shape { dim: 2 } } }\n'
    'layer { name: "fc" type: "InnerProduct" bottom: "data" top: "fc" inner_product_param { num_output: 2 } }\n'
    'layer { name: "loss" type: "SoftmaxWithLoss" bottom: "fc" bottom: "label" top: "loss" }\n'
)
GOOD_SOLVER = ('net: "net.prototxt"\nbase_lr: 0.01\nlr_policy: "step"\ngamma: 0.1\nstepsize: 1000\n'
               'momentum: 0.9\nweight_decay: 0.0005\nmax_iter: 3000\ndisplay: 100\n')
WARNING_SOLVER = GOOD_SOLVER + "debug_info: true\n"  # SLV010, a warning, on line 10
ERROR_SOLVER = GOOD_SOLVER.replace('lr_policy: "step"', 'lr_policy: "steps"')  # SLV004, an error, on line 3


def caffelint(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAFFELINT_")}
    return subprocess.run([sys.executable, "-m", "caffelint", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def project(tmp_path):
    """A model folder with a net and three solvers: clean, with a warning, with an error."""
    (tmp_path / "net.prototxt").write_text(NET, encoding="utf-8")
    for name, text in (("good_solver.prototxt", GOOD_SOLVER), ("warning_solver.prototxt", WARNING_SOLVER),
                       ("error_solver.prototxt", ERROR_SOLVER)):
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("caffelint: error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


# -- exit codes ------------------------------------------------------------------------------------


def test_clean_files_exit_0(project):
    result = caffelint("check", "--select", "SLV", "good_solver.prototxt", cwd=project)
    assert result.returncode == 0, result.stdout
    assert result.stdout == "All clean: 2 files checked.\n"  # the solver and the net it names


def test_warnings_alone_exit_0_unless_the_threshold_says_otherwise(project):
    assert caffelint("check", "--select", "SLV", "warning_solver.prototxt", cwd=project).returncode == 0
    lowered = caffelint("check", "--select", "SLV", "--failure-threshold", "warning", "warning_solver.prototxt",
                        cwd=project)
    assert lowered.returncode == 1
    assert "warning_solver.prototxt:10:13: SLV010 [warning] debug-info-enabled" in lowered.stdout


def test_the_threshold_can_come_from_the_config_file(project):
    (project / ".caffelint.yaml").write_text("select: [SLV]\nfailure-threshold: warning\n", encoding="utf-8")
    assert caffelint("check", "warning_solver.prototxt", cwd=project).returncode == 1
    assert caffelint("check", "--failure-threshold", "error", "warning_solver.prototxt", cwd=project).returncode == 0


def test_errors_exit_1_and_exit_zero_overrides_it(project):
    result = caffelint("check", "--select", "SLV", "error_solver.prototxt", cwd=project)
    assert result.returncode == 1
    assert "error_solver.prototxt:3:12: SLV004 [error] lr-policy-missing-param" in result.stdout
    assert caffelint("check", "--select", "SLV", "--exit-zero", "error_solver.prototxt", cwd=project).returncode == 0


def test_a_folder_is_searched(project):
    result = caffelint("check", "--select", "SLV", "--format", "concise", ".", cwd=project)
    assert result.returncode == 1
    assert {Path(line.split(":")[0]).name for line in result.stdout.splitlines()} == {"error_solver.prototxt",
                                                                                    "warning_solver.prototxt"}


# -- formats ---------------------------------------------------------------------------------------


def test_json(project):
    result = caffelint("check", "--select", "SLV", "--format", "json", "error_solver.prototxt", cwd=project)
    [item] = json.loads(result.stdout)
    assert (item["code"], item["line"], item["column"], item["fix"]["applicability"]) == ("SLV004", 3, 12, "unsafe")


def test_sarif_is_valid_and_complete(project):
    result = caffelint("check", "--select", "SLV", "--format", "sarif", ".", cwd=project)
    assert result.returncode == 1
    log = json.loads(result.stdout)
    schema = json.loads((shared_dir() / "reference" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    jsonschema.validators.validator_for(schema)(schema).validate(log)
    results = log["runs"][0]["results"]
    assert sorted((r["ruleId"], r["level"]) for r in results) == [("SLV004", "error"), ("SLV010", "warning")]


def test_github_annotations(project):
    result = caffelint("check", "--select", "SLV", "--format", "github", "error_solver.prototxt", cwd=project)
    assert result.stdout.startswith("::error file=error_solver.prototxt,line=3,col=12,endLine=3,endColumn=19,"
                                    "title=caffelint (SLV004)::lr-policy-missing-param: ")
    assert result.returncode == 1


def test_output_file_and_statistics(project):
    (project / "out").mkdir()
    result = caffelint("check", "--select", "SLV", "--statistics", "--output-file", "out/stats.txt", ".",
                       cwd=project)
    assert result.stdout == "" and result.returncode == 1
    assert (project / "out" / "stats.txt").read_text(encoding="utf-8").splitlines() == [
        "1  SLV004  error    lr-policy-missing-param  fixable: 1 unsafe",
        "1  SLV010  warning  debug-info-enabled       fixable: 1 unsafe",
        "Found 2 findings from 2 rules.",
    ]


def test_text_output_shows_fixes_and_the_summary(project):
    result = caffelint("check", "--select", "SLV", "warning_solver.prototxt", cwd=project)
    assert result.stdout.endswith("[unsafe fix: Set debug_info: false]\n"
                                  "Found 1 warning in 2 files. 1 more with --unsafe-fixes.\n")


# -- configuration and suppressions ----------------------------------------------------------------


def test_the_config_file_selects_and_the_command_line_overrides(project):
    (project / ".caffelint.yaml").write_text("select: [SLV010]\n", encoding="utf-8")
    assert caffelint("check", "error_solver.prototxt", cwd=project).returncode == 0  # SLV004 not selected
    assert caffelint("check", "--select", "SLV004", "error_solver.prototxt", cwd=project).returncode == 1
    assert caffelint("check", "--isolated", "--select", "SLV", "error_solver.prototxt", cwd=project).returncode == 1


def test_suppressions_and_no_suppressions(project):
    text = ERROR_SOLVER.replace('"steps"', '"steps"  # caffelint: disable=lr-policy-missing-param')
    (project / "error_solver.prototxt").write_text(text, encoding="utf-8")
    assert caffelint("check", "--select", "SLV,PRS008", "error_solver.prototxt", cwd=project).returncode == 0
    unsuppressed = caffelint("check", "--select", "SLV", "--no-suppressions", "error_solver.prototxt", cwd=project)
    assert unsuppressed.returncode == 1


def test_add_noqa_suppresses_every_finding_where_it_is(project):
    added = caffelint("check", "--add-noqa", "warning_solver.prototxt", "error_solver.prototxt", cwd=project)
    # SLV010 and SLV004 in the solvers, INI001 in the net they both train
    assert added.returncode == 0 and added.stdout == "Added 3 suppressions to 3 files.\n", added.stdout + added.stderr
    assert "debug_info: true  # caffelint: disable=SLV010" in (project / "warning_solver.prototxt").read_text()
    assert "# caffelint: disable=INI001" in (project / "net.prototxt").read_text()
    again = caffelint("check", "warning_solver.prototxt", "error_solver.prototxt", cwd=project)
    assert again.returncode == 0 and again.stdout.startswith("All clean"), again.stdout


# -- the catalogue ---------------------------------------------------------------------------------


def test_rules_lists_the_catalogue(project):
    text = caffelint("rules", cwd=project)
    assert text.returncode == 0
    assert any(line.startswith("SLV003  base-lr-out-of-range") for line in text.stdout.splitlines())
    rules = json.loads(caffelint("rules", "--format", "json", cwd=project).stdout)
    by_code = {r["code"]: r for r in rules}
    assert by_code["PRS008"]["name"] == "unused-suppression"
    assert by_code["SLV003"]["options"]["sgd_max"]["default"] == 0.1


@pytest.mark.parametrize("key", ["SLV004", "lr-policy-missing-param", "slv004"])
def test_explain_by_code_or_name(project, key):
    result = caffelint("explain", key, cwd=project)
    assert result.returncode == 0
    assert result.stdout.startswith("SLV004 lr-policy-missing-param [error, tier minimal, fix: unsafe]")
    assert "Example of the problem:" in result.stdout and "After `caffelint fix`:" in result.stdout


# -- errors: one line, exit 2 ----------------------------------------------------------------------


def test_a_missing_path(project):
    assert_one_line_error(caffelint("check", "nothere.prototxt", cwd=project), "nothere.prototxt",
                          "No such file or directory")


def test_an_output_file_in_a_missing_folder(project):
    result = caffelint("check", "--output-file", "nowhere/report.txt", "good_solver.prototxt", cwd=project)
    assert_one_line_error(result, "nowhere", "cannot write")


def test_a_folder_without_prototxt(project):
    (project / "empty").mkdir()
    assert_one_line_error(caffelint("check", "empty", cwd=project), "no prototxt files found")


def test_a_bad_config_names_its_file_line_and_column(project):
    (project / ".caffelint.yaml").write_text("select: [SLV]\nrules:\n  SLV003: {sgd_max: high}\n", encoding="utf-8")
    result = caffelint("check", "good_solver.prototxt", cwd=project)
    assert_one_line_error(result, f"{project / '.caffelint.yaml'}:3:21: rules.SLV003.sgd_max: expected a number")


def test_unknown_rules_and_bad_options(project):
    assert_one_line_error(caffelint("check", "--select", "NOPE", "good_solver.prototxt", cwd=project), "NOPE")
    assert_one_line_error(caffelint("check", "--format", "xml", "good_solver.prototxt", cwd=project), "xml")
    assert_one_line_error(caffelint("explain", "NOPE", cwd=project), "unknown rule 'NOPE'")
    assert_one_line_error(caffelint("check", "--statistics", "--format", "sarif", "good_solver.prototxt",
                                    cwd=project), "--statistics")
    assert_one_line_error(caffelint("check", cwd=project), "Missing argument")
