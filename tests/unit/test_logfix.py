"""`caffelint fix solver.prototxt --from-log train.log`: the diagnosis becomes solver edits."""

from __future__ import annotations

from pathlib import Path

from caffelint import catalogue
from caffelint.api import check_paths
from caffelint.config import Options
from caffelint.fixing import LogFixContext, apply_fixes
from caffelint.logfix import solver_findings_from_log
from fixtures.simulate_log import write
from tests.conftest import shared_dir
from tests.unit.test_log_cli import caffelint

SOLVER = """\
# the recipe's solver
net: "train_val.prototxt"
base_lr: 0.01   # as in the paper
lr_policy: "fixed"
max_iter: 2000
display: 20
snapshot_prefix: "snapshots/sim"
"""


def proposals(tmp_path: Path, log: Path, solver_text: str = SOLVER, **options):
    solver = tmp_path / "solver.prototxt"
    solver.write_text(solver_text, encoding="utf-8")
    opts = Options.from_kwargs(kind="solver", **options)
    project = check_paths([str(solver)], opts).project
    view = next(iter(project.solvers.values()))
    return solver, solver_findings_from_log(str(log), view, LogFixContext(opts, project, catalogue.load()))


def test_a_real_nan_run_gets_a_lower_lr_and_a_diagnostic_run(tmp_path):
    runs = shared_dir() / "logs" / "caffelint__real-caffe-runs"
    (tmp_path / "solver.prototxt").write_bytes((runs / "fork_broken_lr_solver.prototxt.txt").read_bytes())
    log = runs / "fork_broken_lr.log"
    preview = caffelint("fix", "solver.prototxt", "--from-log", str(log), "--select", "LOG", cwd=tmp_path)
    assert "--unsafe-fixes" in preview.stdout + preview.stderr  # unsafe: only shown as available
    assert "base_lr: 10" in (tmp_path / "solver.prototxt").read_text()
    result = caffelint("fix", "solver.prototxt", "--from-log", str(log), "--select", "LOG", "--unsafe-fixes",
                       "--apply", cwd=tmp_path)
    assert result.returncode in (0, 1), result.stderr
    text = (tmp_path / "solver.prototxt").read_text()
    assert "base_lr: 1\n" in text and text.rstrip().endswith("debug_info: true")
    assert "# 6 x 60 = 360 test images" in text  # comments survive
    again = caffelint("fix", "solver.prototxt", "--from-log", str(log), "--select", "LOG", "--unsafe-fixes",
                      "--apply", cwd=tmp_path)
    assert (tmp_path / "solver.prototxt").read_text() == text, again.stdout


def test_messages_carry_the_log_evidence(tmp_path):
    log = tmp_path / "diverging.log"
    write(str(log), "diverging")
    _, found = proposals(tmp_path, log, SOLVER.replace("base_lr: 0.01", "base_lr: 0.5"))
    (finding,) = found
    assert finding.code == "LOG005" and finding.fix.applicability == "unsafe"
    assert finding.message.startswith("base_lr 0.5 → 0.05, from diverging.log:")
    assert "training loss rose from" in finding.message
    assert finding.span.start.line == 3  # at base_lr in the solver


def test_plateau_becomes_a_step_schedule(tmp_path):
    log = tmp_path / "plateau.log"
    write(str(log), "plateau")
    solver, found = proposals(tmp_path, log)
    (finding,) = found
    fixed = apply_fixes(solver.read_text(), found, unsafe=True)
    assert 'lr_policy: "step"\n' in fixed and "gamma: 0.1" in fixed
    stepsize = int(fixed.split("stepsize: ")[1].split()[0])
    assert 300 <= stepsize <= 1500
    assert "# as in the paper" in fixed


def test_spikes_get_gradient_clipping(tmp_path):
    log = tmp_path / "spikes.log"
    write(str(log), "spikes")
    solver, found = proposals(tmp_path, log)
    fixed = apply_fixes(solver.read_text(), found, unsafe=True)
    assert fixed.endswith("clip_gradients: 10\n")
    _, again = proposals(tmp_path, log, fixed)
    assert again == []


def test_a_change_already_made_is_not_proposed(tmp_path):
    log = tmp_path / "diverging.log"
    write(str(log), "diverging")
    _, found = proposals(tmp_path, log, SOLVER.replace("base_lr: 0.01", "base_lr: 0.05"))
    assert found == []


def test_ignored_rules_propose_nothing(tmp_path):
    log = tmp_path / "spikes.log"
    write(str(log), "spikes")
    _, found = proposals(tmp_path, log, ignore=("log-loss-spikes",))
    assert found == []


def test_a_healthy_log_changes_nothing(tmp_path):
    log = tmp_path / "converging.log"
    write(str(log), "converging")
    assert proposals(tmp_path, log)[1] == []
