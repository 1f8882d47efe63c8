""".caffelint.yaml (or pyproject.toml's [tool.caffelint]): found upward from each file, checked key
by key with line and column, and
layered under the command line (a CLI --select replaces the file's selection; --ignore and
--extend-select add to it)."""

from __future__ import annotations

import pytest

from caffelint.api import check_paths
from caffelint.config import Options, effective, find_config, read_config, threshold_for
from caffelint.engine import enabled_rules
from caffelint.errors import ConfigError
from caffelint.findings import Severity

SOLVER = 'net: "n.prototxt"\nbase_lr: 0.01\ndebug_info: true\n'  # SLV010 on line 3, and others


def write(folder, name, text):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def codes(path, **cli) -> set[str]:
    from caffelint import catalogue

    options = effective(Options.from_kwargs(**cli), str(path))
    return {s.code for s in enabled_rules(catalogue.load(), options, str(path))}


# -- finding the file ------------------------------------------------------------------------------


def test_the_nearest_config_above_a_file_wins(tmp_path):
    outer = write(tmp_path, ".caffelint.yaml", "tier: strict\n")
    inner = write(tmp_path, "models/.caffelint.yml", "tier: minimal\n")
    assert find_config(str(tmp_path / "models" / "lenet" / "solver.prototxt")) == str(inner)
    assert find_config(str(tmp_path / "other" / "solver.prototxt")) == str(outer)


def test_no_config_means_the_command_line_alone(tmp_path):
    path = str(tmp_path / "solver.prototxt")
    assert find_config(path) is None, "a .caffelint.yaml above the temporary folder spoils this test"
    cli = Options.from_kwargs(tier="strict")
    assert effective(cli, path) is cli


def test_isolated_and_explicit_config(tmp_path):
    write(tmp_path, ".caffelint.yaml", "select: [SLV010]\n")
    other = write(tmp_path, "elsewhere/strict.yaml", "select: [SLV011]\n")
    path = tmp_path / "solver.prototxt"
    assert codes(path) == {"SLV010"}
    assert codes(path, config=str(other)) == {"SLV011"}
    assert "SLV010" in codes(path, isolated=True) and len(codes(path, isolated=True)) > 1


# -- layering --------------------------------------------------------------------------------------


def test_cli_select_replaces_the_files_selection(tmp_path):
    write(tmp_path, ".caffelint.yaml", "select: [SLV]\nignore: [SLV010]\nextend-select: [PRS001]\n")
    path = tmp_path / "solver.prototxt"
    assert "SLV010" not in codes(path) and "PRS001" in codes(path)
    assert codes(path, select=("SLV010",)) == {"SLV010"}


def test_cli_ignore_adds_to_the_files_ignore(tmp_path):
    write(tmp_path, ".caffelint.yaml", "select: [SLV]\nignore: [SLV010]\n")
    chosen = codes(tmp_path / "solver.prototxt", ignore=("SLV011",))
    assert "SLV010" not in chosen and "SLV011" not in chosen and "SLV012" in chosen


def test_cli_extend_select_brings_back_one_rule_of_an_ignored_group(tmp_path):
    write(tmp_path, ".caffelint.yaml", "ignore: [SLV]\n")
    chosen = codes(tmp_path / "solver.prototxt", extend_select=("SLV010",))
    assert "SLV010" in chosen and "SLV011" not in chosen


def test_cli_tier_beats_the_files_select(tmp_path):
    write(tmp_path, ".caffelint.yaml", "select: [SLV010]\n")
    assert len(codes(tmp_path / "solver.prototxt", tier="minimal")) > 1


def test_per_file_ignores_are_globs_relative_to_the_config(tmp_path):
    write(tmp_path, ".caffelint.yaml", "per-file-ignores:\n  'deploy/*': [SLV010]\n  'old_*.prototxt': SLV011\n")
    assert "SLV010" not in codes(tmp_path / "deploy" / "a" / "solver.prototxt")
    assert "SLV010" in codes(tmp_path / "train" / "solver.prototxt")
    assert "SLV011" not in codes(tmp_path / "train" / "old_solver.prototxt")


def test_severity_and_thresholds_reach_the_findings(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "solver.prototxt", SOLVER)
    write(tmp_path, ".caffelint.yaml", "select: [debug-info-enabled]\nseverity:\n  debug-info-enabled: error\n"
                                       "failure-threshold: warning\n")
    [finding] = check_paths(["solver.prototxt"], Options.from_kwargs()).findings
    assert finding.severity == Severity.ERROR
    assert threshold_for(Options.from_kwargs(), "solver.prototxt") == Severity.WARNING
    assert threshold_for(Options.from_kwargs(), "solver.prototxt", "error") == Severity.ERROR


def test_rule_options_from_the_file_change_the_rule(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "solver.prototxt", 'net: "n.prototxt"\nbase_lr: 0.02\ntype: "Adam"\nmomentum: 0.9\n')
    assert check_paths(["solver.prototxt"], Options.from_kwargs(select=("SLV003",))).findings
    write(tmp_path, ".caffelint.yaml", "rules:\n  SLV003:\n    adaptive_max: 0.05\n")
    read_config.cache_clear()
    assert check_paths(["solver.prototxt"], Options.from_kwargs(select=("SLV003",))).findings == []


def test_an_empty_file_and_empty_sections_are_fine(tmp_path):
    write(tmp_path, ".caffelint.yaml", "")
    assert read_config(str(tmp_path / ".caffelint.yaml")) == {"base_dir": str(tmp_path)}
    write(tmp_path, "b/.caffelint.yaml", "rules:\nseverity:\nper-file-ignores:\n")
    assert read_config(str(tmp_path / "b" / ".caffelint.yaml"))["rule_options"] == ()


def test_paths_are_relative_to_the_config(tmp_path):
    write(tmp_path, "protos/fork.proto", "syntax = 'proto2';\n")
    (tmp_path / "data").mkdir()
    write(tmp_path, ".caffelint.yaml", "proto: protos/fork.proto\nroot: data\nsample: 50\nrequire-data: true\n")
    values = read_config(str(tmp_path / ".caffelint.yaml"))
    assert values["proto"] == str(tmp_path / "protos" / "fork.proto")
    assert values["root"] == str(tmp_path / "data")
    assert values["sample"] == 50 and values["require_data"] is True


# -- errors: one line, with file, line and column ----------------------------------------------------


@pytest.mark.parametrize(("text", "where", "message"), [
    ("selct: [SLV]\n", "1:1", "unknown setting 'selct'; did you mean 'select'?"),
    ("select: [SLV010, NOPE1]\n", "1:18", "select: unknown rule 'NOPE1'"),
    ("ignore: debug-info-enabld\n", "1:9", "did you mean 'debug-info-enabled'?"),
    ("extend-select: 3\n", "1:16", "unknown rule '3'"),
    ("select: {a: 1}\n", "1:9", "select: expected a list of rule codes or names"),
    ("severity:\n  SLV010: fatal\n", "2:11", "severity.SLV010: 'fatal' is not one of error, warning, info"),
    ("severity:\n  SLV999: error\n", "2:3", "severity: unknown rule 'SLV999'"),
    ("per-file-ignores:\n  '*.pt': [NOPE]\n", "2:12", "per-file-ignores.*.pt: unknown rule 'NOPE'"),
    ("rules:\n  SLV003:\n    sgd_maxx: 1\n", "3:5", "unknown option 'sgd_maxx' for SLV003 base-lr-out-of-range"),
    ("rules:\n  SLV003:\n    sgd_max: high\n", "3:14", "rules.SLV003.sgd_max: expected a number, got 'high'"),
    ("rules:\n  SLV004:\n    extra_policies: plateau\n", "3:21", "expected a list"),
    ("rules:\n  SLV003: 5\n", "2:11", "rules.SLV003: expected a mapping option -> value"),
    ("tier: strictest\n", "1:7", "tier: 'strictest' is not one of minimal, recommended, strict"),
    ("failure-threshold: fatal\n", "1:20", "failure-threshold: 'fatal' is not one of"),
    ("sample: 0\n", "1:9", "at least 1"),
    ("sample: true\n", "1:9", "sample: expected an integer, got True"),
    ("require-data: yes please\n", "1:15", "require-data: expected true or false"),
    ("proto: nowhere.proto\n", "1:8", "proto: file 'nowhere.proto' not found"),
    ("root: nowhere\n", "1:7", "root: folder 'nowhere' not found"),
    ("tier: minimal\ntier: strict\n", "2:1", "'tier' is set twice (first on line 1)"),
    ("- select\n", "1:1", "expected a mapping of settings"),
    ("select: [SLV\n", "2:1", "invalid YAML"),
])
def test_mistakes_are_one_line_errors_at_their_place(tmp_path, text, where, message):
    assert_error_at(write(tmp_path, ".caffelint.yaml", text), where, message)


def assert_error_at(path, where: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        read_config(str(path))
    error = str(caught.value)
    assert error.startswith(f"{path}:{where}: "), error
    assert message in error and "\n" not in error


# -- pyproject.toml ----------------------------------------------------------------------------------

PYPROJECT = '[project]\nname = "models"\n\n[tool.caffelint]\ntier = "strict"\nselect = ["SLV010"]\n'


def test_a_pyproject_with_a_caffelint_table_is_a_config(tmp_path):
    pyproject = write(tmp_path, "pyproject.toml", PYPROJECT)
    write(tmp_path, "models/pyproject.toml", '[project]\nname = "inner"\n')  # no table: passed over
    assert find_config(str(tmp_path / "models" / "solver.prototxt")) == str(pyproject)
    assert codes(tmp_path / "models" / "solver.prototxt") == {"SLV010"}
    beside = write(tmp_path, ".caffelint.yaml", "select: [SLV011]\n")
    assert find_config(str(tmp_path / "solver.prototxt")) == str(beside)  # the YAML file comes first


def test_pyproject_settings_read_as_the_yaml_ones(tmp_path):
    toml = write(tmp_path, "a/pyproject.toml", (
        '[tool.caffelint]\nselect = ["SLV", "PRS"]\nignore = ["debug-info-enabled"]\n'
        'severity = { SLV004 = "warning" }\n'
        '[tool.caffelint.per-file-ignores]\n"*.pt" = ["SLV001"]\n'
        '[tool.caffelint.rules]\nbase-lr-out-of-range = {sgd_max = 0.05}\n'))
    yaml = write(tmp_path, "b/.caffelint.yaml", (
        "select: [SLV, PRS]\nignore: [debug-info-enabled]\nseverity: {SLV004: warning}\n"
        "per-file-ignores: {'*.pt': [SLV001]}\nrules: {base-lr-out-of-range: {sgd_max: 0.05}}\n"))
    from_toml, from_yaml = read_config(str(toml)), read_config(str(yaml))
    assert {k: v for k, v in from_toml.items() if k != "base_dir"} == \
        {k: v for k, v in from_yaml.items() if k != "base_dir"}


@pytest.mark.parametrize(("text", "where", "message"), [
    ('[tool.caffelint]\ntier = "strict"\nselct = ["SLV"]\n', "3:1", "unknown setting 'selct'"),
    ('[tool.caffelint.severity]\nSLV010 = "fatal"\n', "2:1", "severity.SLV010: 'fatal' is not one of"),
    ('[tool.caffelint.rules]\nSLV003 = { sgd_max = "high" }\n', "2:12", "expected a number, got 'high'"),
    ('tool.caffelint.sample = 0\n', "1:1", "at least 1"),
    ('[tool.caffelint]\nselect = ["SLV",\n', "3:1", "invalid TOML"),
    ('[tool.caffelint]\nselect = ["SLV", "NOPE"]\n', "2:18", "select: unknown rule 'NOPE'"),
    ("[tool.caffelint]\nselect = [\n  \"SLV\",  # the solver, ']'\n  'NOPE',\n]\n", "4:3", "unknown rule 'NOPE'"),
    ('[tool.caffelint.per-file-ignores]\n"*.pt" = ["SLV001", "NOPE"]\n', "2:21", "unknown rule 'NOPE'"),
    ('[tool.caffelint]\nselect = ["SLV", 3]\n', "2:1", "select"),  # not all strings: the key's place
])
def test_pyproject_mistakes_point_into_the_toml(tmp_path, text, where, message):
    assert_error_at(write(tmp_path, "pyproject.toml", text), where, message)
