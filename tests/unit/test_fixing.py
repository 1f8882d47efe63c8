"""fixing.py and `caffelint fix`: rounds, overlaps, refusals, diffs, writes and exit codes."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import pytest

from caffelint.config import Options
from caffelint.errors import UsageError
from caffelint.findings import SAFE, UNSAFE, Edit, Finding, Fix, Pos, Severity, Span
from caffelint.fixing import apply_round, fix_paths, refusal
from caffelint.report.fixes import render_fix_report, unified_diff

V1_NET = """\
name: "tiny"
layers {
  name: "conv1"
  type: CONVOLUTION   # the only layer
  blobs_lr: 1
  blobs_lr: 2
  convolution_param { num_output: 4 kernel_size: 3 }
}
"""
V2_NET = """\
name: "tiny"
layer {
  name: "conv1"
  type: "Convolution"   # the only layer
  param {
    lr_mult: 1
  }
  param {
    lr_mult: 2
  }
  convolution_param { num_output: 4 kernel_size: 3 }
}
"""
V0_PADDED = """\
input: "data"
input_dim: 1
input_dim: 1
input_dim: 8
input_dim: 8
layers { layer { name: "pad" type: "padding" pad: 1 } bottom: "data" top: "padded" }
layers { layer { name: "conv" type: "conv" num_output: 2 kernelsize: 3 } bottom: "padded" top: "conv" }
"""


def only_upg(unsafe: bool = False, **extra) -> Options:
    return Options.from_kwargs(select=("UPG001",), isolated=True, no_data=True, unsafe_fixes=unsafe, **extra)


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


def finding(start: int, end: int, text: str, applicability: str = SAFE, *more: Edit) -> Finding:
    span = Span("net.prototxt", Pos(1, 1, start), Pos(1, 1, end))
    return Finding("TST001", "test", Severity.WARNING, "m", span,
                   Fix("Edit", applicability, (Edit(start, end, text), *more)))


# -- one round ------------------------------------------------------------------------


def test_a_round_skips_a_fix_that_overlaps_one_already_taken():
    text = "abcdef"
    first, second = finding(0, 3, "X"), finding(2, 4, "Y")
    out, applied = apply_round(text, [second, first], unsafe=False)
    assert (out, applied) == ("Xdef", [first])


def test_the_format_upgrade_goes_first_whatever_its_place():
    other = finding(0, 3, "X")
    upgrade = Finding("UPG001", "deprecated-syntax", Severity.WARNING, "m", other.span,
                      Fix("Upgrade", SAFE, (Edit(2, 4, "Y"), Edit(5, 6, "Z"))))
    out, applied = apply_round("abcdef", [other, upgrade], unsafe=False)
    assert (out, applied) == ("abYeZ", [upgrade])


def test_a_round_counts_a_shared_fix_once_for_each_finding():
    text = "abcdef"
    a = finding(0, 1, "X")
    b = Finding("TST002", "other", Severity.INFO, "m", a.span, a.fix)
    out, applied = apply_round(text, [a, b], unsafe=False)
    assert out == "Xbcdef" and applied == [a, b]


def test_two_insertions_at_one_place_wait_for_the_next_round():
    out, applied = apply_round("ab", [finding(1, 1, "X"), finding(1, 1, "Y")], unsafe=False)
    assert out in ("aXb", "aYb") and len(applied) == 1


def test_a_fix_whose_own_edits_overlap_is_not_applied():
    bad = finding(0, 3, "X", SAFE, Edit(2, 4, "Y"))
    assert apply_round("abcdef", [bad], unsafe=False) == ("abcdef", [])


def test_unsafe_fixes_need_permission():
    risky = finding(0, 1, "X", UNSAFE)
    assert apply_round("ab", [risky], unsafe=False)[0] == "ab"
    assert apply_round("ab", [risky], unsafe=True)[0] == "Xb"


def test_a_fix_that_breaks_a_loadable_file_is_refused():
    assert "would make a file Caffe reads into one it rejects" in refusal(V2_NET, V2_NET.replace(
        '"Convolution"', "Convolution"), "net", only_upg())
    assert "would break the syntax" in refusal(V2_NET, V2_NET + "}", "net", only_upg())
    assert refusal(V1_NET, V2_NET, "net", only_upg()) == ""


# -- fix_paths --------------------------------------------------------------------------


def test_a_dry_run_shows_the_upgrade_and_writes_nothing(tmp_path):
    path = write(tmp_path / "net.prototxt", V1_NET)
    report = fix_paths([str(path)], only_upg())
    assert [r.after for r in report.changed] == [V2_NET]
    assert path.read_text() == V1_NET
    assert report.exit_code == 1
    out, err = render_fix_report(report, apply=False)
    assert out.startswith(f"--- a/{str(path).lstrip('/')}\n+++ b/{str(path).lstrip('/')}\n@@ ")
    assert "-layers {\n+layer {\n" in out and "-  blobs_lr: 1\n" in out
    assert "Would fix 1 finding in 1 file (UPG001)" in err


def test_apply_writes_and_reports_what_remains(tmp_path):
    path = write(tmp_path / "net.prototxt", V1_NET)
    report = fix_paths([str(path)], only_upg(), apply=True)
    assert path.read_text() == V2_NET
    assert report.exit_code == 0 and report.remaining == []
    out, err = render_fix_report(report, apply=True)
    assert f"Fixed 1 finding in {path} (UPG001)" in out and "Nothing remains." in out and err == ""


def test_a_fix_that_needs_another_first_takes_two_rounds(tmp_path):
    path = write(tmp_path / "net.prototxt", V1_NET.replace("CONVOLUTION", "CONVOLUTON"))
    options = Options.from_kwargs(select=("UPG001", "PRS003"), isolated=True, no_data=True)
    report = fix_paths([str(path)], options)
    [result] = report.changed
    assert result.after == V2_NET
    assert len(result.rounds) == 2
    assert sorted(f.code for f in result.fixed) == ["PRS003", "UPG001"]


def test_crlf_stays_crlf(tmp_path):
    path = write(tmp_path / "net.prototxt", V1_NET.replace("\n", "\r\n"))
    [result] = fix_paths([str(path)], only_upg()).changed
    assert result.after == V2_NET.replace("\n", "\r\n")


def test_unsafe_fixes_are_counted_until_allowed(tmp_path):
    path = write(tmp_path / "net.prototxt", V0_PADDED)
    report = fix_paths([str(path)], only_upg())
    assert report.changed == [] and report.exit_code == 0
    assert len(report.hidden_unsafe) == 2  # the net and its inputs share one unsafe fix
    assert "2 more findings can be fixed with --unsafe-fixes" in render_fix_report(report, apply=False)[1]
    [result] = fix_paths([str(path)], only_upg(unsafe=True)).changed
    assert 'bottom: "data"' in result.after and "pad: 1" in result.after and "padding" not in result.after


def test_each_fix_lands_in_its_own_file(tmp_path):
    net = write(tmp_path / "train.prototxt", V1_NET)
    solver = write(tmp_path / "solver.prototxt", f'net: "{net}"\nsolver_type: ADAM\n')
    report = fix_paths([str(solver)], only_upg())
    after = {Path(r.path).name: r.after for r in report.changed}
    assert after == {"solver.prototxt": f'net: "{net}"\ntype: "Adam"\n', "train.prototxt": V2_NET}


def _stub_logfix(monkeypatch, make):
    module = types.ModuleType("caffelint.logfix")
    module.solver_findings_from_log = make
    monkeypatch.setitem(sys.modules, "caffelint.logfix", module)


def test_from_log_findings_apply_to_the_solver_once(tmp_path, monkeypatch):
    solver = write(tmp_path / "solver.prototxt", 'net: "train.prototxt"\nbase_lr: 0.1\ntype: "SGD"\n')
    write(tmp_path / "train.prototxt", V2_NET)
    log = write(tmp_path / "train.log", "I0101 solver.cpp] Iteration 0, loss = nan\n")
    calls = []

    def lower_base_lr(log_path, solver_view, ctx):
        calls.append((log_path, solver_view.file.path, ctx.options.unsafe_fixes))
        item = solver_view.bound.entry("base_lr").item
        return [Finding("LOG001", "log-nan", Severity.ERROR, "loss became nan", solver_view.file.source.span(
            item.start, item.end), Fix("Lower base_lr", UNSAFE, (Edit(item.start, item.end, "0.01"),)))]

    _stub_logfix(monkeypatch, lower_base_lr)
    hidden = fix_paths([str(solver)], only_upg(), from_log=str(log))
    assert hidden.changed == [] and [f.code for f in hidden.hidden_unsafe] == ["LOG001"]
    report = fix_paths([str(solver)], only_upg(unsafe=True), from_log=str(log))
    [result] = report.changed
    assert "base_lr: 0.01\n" in result.after
    assert calls == [(str(log), str(solver), False), (str(log), str(solver), True)]


def test_a_fix_that_would_make_the_file_unloadable_is_refused(tmp_path, monkeypatch):
    solver = write(tmp_path / "solver.prototxt", 'net: "train.prototxt"\nbase_lr: 0.1\n')
    write(tmp_path / "train.prototxt", V2_NET)
    log = write(tmp_path / "train.log", "")

    def break_it(log_path, solver_view, ctx):
        item = solver_view.bound.entry("base_lr").item
        return [Finding("LOG001", "log-nan", Severity.ERROR, "m", solver_view.file.source.span(item.start, item.end),
                        Fix("Break", UNSAFE, (Edit(item.start, item.end, '"fast"'),)))]

    _stub_logfix(monkeypatch, break_it)
    report = fix_paths([str(solver)], only_upg(unsafe=True), from_log=str(log), apply=True)
    assert report.exit_code == 2
    assert solver.read_text() == 'net: "train.prototxt"\nbase_lr: 0.1\n'
    [failed] = report.failed
    assert "not fixed: the fixes of LOG001 would make a file Caffe reads into one it rejects" in failed.error


def test_from_log_without_the_log_module_is_a_usage_error(tmp_path, monkeypatch):
    solver = write(tmp_path / "solver.prototxt", 'net: "train.prototxt"\nbase_lr: 0.1\n')
    write(tmp_path / "train.prototxt", V2_NET)
    monkeypatch.setitem(sys.modules, "caffelint.logfix", None)  # as if the module did not exist
    with pytest.raises(UsageError, match="caffelint.logfix is missing"):
        fix_paths([str(solver)], only_upg(), from_log=str(tmp_path / "train.log"))


def test_from_log_needs_exactly_one_solver(tmp_path, monkeypatch):
    _stub_logfix(monkeypatch, lambda *args: [])
    net = write(tmp_path / "net.prototxt", V2_NET)
    log = write(tmp_path / "train.log", "")
    with pytest.raises(UsageError, match="exactly one solver"):
        fix_paths([str(net)], only_upg(), from_log=str(log))


def test_the_diff_marks_a_missing_final_newline():
    diff = unified_diff("net.prototxt", 'name: "a"', 'name: "b"')
    assert diff == ('--- a/net.prototxt\n+++ b/net.prototxt\n@@ -1 +1 @@\n-name: "a"\n'
                    '\\ No newline at end of file\n+name: "b"\n\\ No newline at end of file\n')


# -- the command line -----------------------------------------------------------------


def caffelint(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "caffelint", *args], cwd=cwd, capture_output=True, text=True,
                          check=False)


def test_cli_dry_run_then_apply(tmp_path):
    write(tmp_path / "net.prototxt", V1_NET)
    dry = caffelint("fix", "--select", "UPG001", "net.prototxt", cwd=tmp_path)
    assert dry.returncode == 1, dry.stderr
    assert dry.stdout.startswith("--- a/net.prototxt\n+++ b/net.prototxt\n")
    assert (tmp_path / "net.prototxt").read_text() == V1_NET
    done = caffelint("fix", "--select", "UPG001", "--apply", "net.prototxt", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "net.prototxt").read_text() == V2_NET
    again = caffelint("fix", "--select", "UPG001", "net.prototxt", cwd=tmp_path)
    assert (again.returncode, again.stdout) == (0, "")


def test_cli_check_fix_is_fix_apply(tmp_path):
    write(tmp_path / "net.prototxt", V1_NET)
    done = caffelint("check", "--fix", "--select", "UPG001", "net.prototxt", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "net.prototxt").read_text() == V2_NET


def test_cli_remaining_errors_exit_1(tmp_path):
    write(tmp_path / "net.prototxt", V1_NET.replace("kernel_size", "kernel_sise"))
    done = caffelint("fix", "--select", "UPG001,PRS002", "--apply", "net.prototxt", cwd=tmp_path)
    assert done.returncode == 0, done.stdout  # the typo had one close match: fixed too
    write(tmp_path / "net.prototxt", V1_NET.replace("kernel_size", "zzz"))
    done = caffelint("fix", "--select", "UPG001,PRS002", "--apply", "net.prototxt", cwd=tmp_path)
    assert done.returncode == 1
    assert "PRS002 [error] unknown-field" in done.stdout and "Remaining: 1 error" in done.stdout


def test_cli_read_only_file_exits_2_and_stays(tmp_path):
    path = write(tmp_path / "net.prototxt", V1_NET)
    path.chmod(0o444)
    done = caffelint("fix", "--select", "UPG001", "--apply", "net.prototxt", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == "caffelint: error: net.prototxt: file is read-only; not written"
    assert path.read_text() == V1_NET


def test_cli_symlink_out_of_the_repository(tmp_path):
    repo, elsewhere = tmp_path / "repo", tmp_path / "elsewhere"
    (repo / ".git").mkdir(parents=True)
    elsewhere.mkdir()
    target = write(elsewhere / "net.prototxt", V1_NET)
    (repo / "net.prototxt").symlink_to(target)
    refused = caffelint("fix", "--select", "UPG001", "--apply", "net.prototxt", cwd=repo)
    assert refused.returncode == 2 and "--follow-symlinks" in refused.stderr
    assert target.read_text() == V1_NET
    done = caffelint("fix", "--select", "UPG001", "--apply", "--follow-symlinks", "net.prototxt", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert target.read_text() == V2_NET and (repo / "net.prototxt").is_symlink()


def test_cli_missing_file_is_one_line_exit_2(tmp_path):
    done = caffelint("fix", "nowhere.prototxt", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("caffelint: error: nowhere.prototxt")


def test_the_diff_shows_an_inserted_layer_where_it_begins():
    relu = 'layer {\n  name: "relu1"\n  type: "ReLU"\n  bottom: "conv1"\n  top: "conv1"\n}\n'
    before = 'layer {\n  name: "conv1"\n  type: "Convolution"\n}\n' + relu
    bn = 'layer {\n  name: "bn1"\n  type: "BatchNorm"\n  bottom: "conv1"\n  top: "conv1"\n}\n'
    diff = unified_diff("net.prototxt", before, before.replace(relu, bn + relu))
    assert diff.splitlines()[2:] == [
        "@@ -2,6 +2,12 @@", '   name: "conv1"', '   type: "Convolution"', " }",
        "+layer {", '+  name: "bn1"', '+  type: "BatchNorm"', '+  bottom: "conv1"', '+  top: "conv1"', "+}",
        " layer {", '   name: "relu1"', '   type: "ReLU"']
