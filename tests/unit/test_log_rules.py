"""The LOG rules on simulated logs: each scenario's problem is found, a healthy run stays quiet."""

from __future__ import annotations

import math

import pytest

from caffelint.config import Options
from caffelint.errors import ConfigError, InputError
from caffelint.logdiag import diagnose_log
from fixtures.simulate_log import scenarios, write

# scenario -> the rules that must report it
EXPECTED = {
    "nan": {"log-nan"},
    "saturated": {"log-saturated-softmax", "log-bad-init"},
    "chance": {"log-chance-level"},
    "bad_init": {"log-bad-init"},
    "diverging": {"log-diverging"},
    "lr_too_low": {"log-lr-too-low"},
    "lr_too_high": {"log-lr-too-high"},
    "plateau": {"log-plateau"},
    "overfitting": {"log-overfitting"},
    "train_acc_below_test": {"log-train-acc-below-test"},
    "noisy": {"log-noisy"},
    "spikes": {"log-loss-spikes"},
    "epoch_pattern": {"log-epoch-pattern"},
    "test_wraps": {"log-test-wraps"},
    "lr_zero": {"log-lr-schedule"},
    "fatal": {"log-fatal-check"},
    "fatal_setup": {"log-fatal-check"},
    "not_converged": {"log-not-converged"},
    "two_runs": {"log-diverging"},
}
HEALTHY = ["converging", "old_format", "no_prefix", "year_dates", "two_test_nets", "clipping"]


def diagnose(tmp_path, name, seed=0, select=None, **overrides):
    path = tmp_path / f"{name}.log"
    write(str(path), name, seed, **overrides)
    return diagnose_log(str(path), Options.from_kwargs(select=select))


def test_every_scenario_is_covered():
    assert set(EXPECTED) | set(HEALTHY) | {"resumed"} == set(scenarios())


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_scenarios_problem_is_found(tmp_path, name, seed):
    report = diagnose(tmp_path, name, seed)
    names = {f.name for f in report.findings}
    assert EXPECTED[name] <= names, f"{name}: got {sorted(names)}"
    assert "internal-error" not in names


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("name", HEALTHY)
def test_a_healthy_run_gets_no_warning(tmp_path, name, seed):
    report = diagnose(tmp_path, name, seed)
    assert [f for f in report.findings if f.severity >= 2] == [], [f.message for f in report.findings]


def test_each_rule_fires_on_its_own_scenario_only_where_it_should(tmp_path):
    # the rules that find a problem do not also fire on the healthy run, one by one
    healthy = diagnose(tmp_path, "converging", 3, select=("LOG",))
    assert healthy.findings == []


def test_findings_point_at_the_evidence_line(tmp_path):
    report = diagnose(tmp_path, "nan", select=("LOG001",))
    (finding,) = report.findings
    line = (tmp_path / "nan.log").read_text().splitlines()[finding.span.start.line - 1]
    assert "nan" in line and "Iteration 100" in line
    assert "debug_info: first non-finite value" in finding.notes[0].message


def test_a_run_per_solver_is_reported_separately(tmp_path):
    report = diagnose(tmp_path, "two_runs")
    diverging = [f for f in report.findings if f.name == "log-diverging"]
    assert len(diverging) == 1 and diverging[0].message.startswith("run 2 of 2: ")
    assert report.run_of(diverging[0]) is report.log.runs[1]


def _overfit_then_collapse(collapse_at: int = 1400) -> dict:
    """Train loss falls, test loss rises from iteration ~300 while test accuracy still rises; then a collapse."""
    chance = math.log(10)

    def loss(it, rng):
        if it >= collapse_at:
            return chance * (1 + rng.gauss(0, 0.003))
        return max(1e-4, (0.002 + 2.3 * math.exp(-it / 150)) * (1 + rng.gauss(0, 0.05)))

    return {
        "lr_policy": "fixed",
        "loss": loss,
        "test_loss": lambda it, rng: chance if it >= collapse_at else 0.6 + 1.7 * math.exp(-it / 150) + it / 1000,
        "test_accuracy": lambda it, rng: 0.1 if it >= collapse_at else 0.5 + 0.3 * it / collapse_at,
    }


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_overfitting_before_a_collapse_is_found(tmp_path, seed):
    report = diagnose(tmp_path, "overfitting", seed, **_overfit_then_collapse())
    (finding,) = [f for f in report.findings if f.name == "log-overfitting"]
    assert "log-diverging" in {f.name for f in report.findings}  # the collapse itself
    assert report.iteration_of(finding) < 1400  # found where the test loss rose, not at the collapse
    assert "the accuracy still rose while the loss rose: the predictions grow overconfident" in finding.message
    # judged on the whole run, the collapse hides it: the training loss ends above where it was
    (tmp_path / ".caffelint.yaml").write_text("rules:\n  log-overfitting:\n    collapse_factor: 1.0e+9\n")
    report = diagnose(tmp_path, "overfitting", seed, **_overfit_then_collapse())
    assert "log-overfitting" not in {f.name for f in report.findings}


def test_a_collapse_without_overfitting_is_no_overfitting(tmp_path):
    healthy = {key: getattr(scenarios()["converging"], key) for key in ("loss", "test_loss", "test_accuracy")}
    collapsed = {"loss": lambda it, rng: 2.3 if it >= 1400 else healthy["loss"](it, rng),
                 "test_loss": lambda it, rng: 2.3 if it >= 1400 else healthy["test_loss"](it, rng),
                 "test_accuracy": lambda it, rng: 0.1 if it >= 1400 else healthy["test_accuracy"](it, rng)}
    report = diagnose(tmp_path, "converging", lr_policy="fixed", **collapsed)
    assert "log-overfitting" not in {f.name for f in report.findings}


def test_thresholds_come_from_the_config_file(tmp_path):
    (tmp_path / ".caffelint.yaml").write_text("rules:\n  log-noisy:\n    relative_width: 5.0\n")
    assert not [f for f in diagnose(tmp_path, "noisy").findings if f.name == "log-noisy"]
    other = tmp_path / "other"
    other.mkdir()
    (other / ".caffelint.yaml").write_text("rules:\n  LOG011:\n    no_such_option: 1\n")
    with pytest.raises(ConfigError, match="unknown option 'no_such_option'"):
        diagnose(other, "noisy")


def test_select_and_ignore(tmp_path):
    report = diagnose(tmp_path, "saturated", select=("log-saturated-softmax",))
    assert {f.code for f in report.findings} == {"LOG002"}
    path = tmp_path / "saturated.log"
    report = diagnose_log(str(path), Options.from_kwargs(ignore=("LOG002", "LOG004", "LOG007")))
    assert report.findings == []


def test_iteration_of_a_finding(tmp_path):
    report = diagnose(tmp_path, "spikes", select=("LOG012",))
    assert [report.iteration_of(f) for f in report.findings] == [700]


def test_a_file_that_is_no_training_log(tmp_path):
    path = tmp_path / "net.prototxt"
    path.write_text('name: "LeNet"\nlayer { name: "data" type: "Input" top: "data" }\n')
    with pytest.raises(InputError, match="not a Caffe training log"):
        diagnose_log(str(path), Options.from_kwargs())


def test_nan_is_counted_in_messages_not_dropped(tmp_path):
    report = diagnose(tmp_path, "nan", select=("LOG001",))
    assert "= nan at iteration 100" in report.findings[0].message
    run = report.log.runs[0]
    assert sum(1 for v in run.train_loss.values if math.isnan(v)) == len(run.train_loss) - 5
