"""Solver rules on real solver and net files in a temporary folder, beyond the catalogue's examples:
thresholds per solver type, BatchNorm and loss normalisation, every learning-rate policy, Caffe's
test-net counting, snapshot paths, and the kind of each fix."""

from __future__ import annotations

import pytest

from caffelint.api import check_paths
from caffelint.config import Options
from caffelint.findings import SAFE, UNSAFE

INPUT = 'layer { name: "data" type: "Input" top: "data" top: "label" ' \
        'input_param { shape { dim: 2 dim: 3 dim: 8 dim: 8 } shape { dim: 2 } } }\n'
CONV = 'layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" ' \
       'convolution_param { num_output: 4 kernel_size: 3 } }\n'
BN = 'layer { name: "bn" type: "BatchNorm" bottom: "conv" top: "conv" }\n'
LOSS = 'layer {{ name: "loss" type: "SoftmaxWithLoss" bottom: "conv" bottom: "label" top: "loss"{} }}\n'
PLAIN_NET = INPUT + CONV + LOSS.format("")


@pytest.fixture
def lint(tmp_path, monkeypatch):
    """Write solver.prototxt (and other files) in a fresh folder; run the named rules from there."""
    monkeypatch.chdir(tmp_path)

    def run(solver: str, *rules: str, files: dict[str, str] | None = None, **options):
        for name, text in (files or {}).items():
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name).write_text(text, encoding="utf-8")
        (tmp_path / "solver.prototxt").write_text(solver, encoding="utf-8")
        found = check_paths(["solver.prototxt"], Options.from_kwargs(select=rules, isolated=True, **options))
        return [f for f in found.findings if f.code in rules or f.name in rules]

    return run


# -- base_lr ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("solver_type", "lr", "flagged"), [
    ("SGD", 0.1, False), ("SGD", 0.2, True), ("Nesterov", 0.2, True), ("SGD", 1e-6, True),
    ("Adam", 0.01, False), ("Adam", 0.02, True), ("Adam", 1e-7, True), ("RMSProp", 0.05, True),
    ("AdaGrad", 0.05, False), ("AdaGrad", 0.5, True), ("AdaDelta", 1.0, False), ("AdaDelta", 0.001, True),
])
def test_base_lr_limits_depend_on_the_solver_type(lint, solver_type, lr, flagged):
    solver = f'net: "net.prototxt"\ntype: "{solver_type}"\nbase_lr: {lr}\n'
    found = lint(solver, "base-lr-out-of-range", files={"net.prototxt": PLAIN_NET})
    assert bool(found) == flagged, [f.message for f in found]


def test_batchnorm_in_the_train_net_raises_the_sgd_limit(lint):
    solver = 'net: "net.prototxt"\nbase_lr: 0.5\nmomentum: 0.9\n'
    assert lint(solver, "SLV003", files={"net.prototxt": PLAIN_NET})
    assert lint(solver, "SLV003", files={"net.prototxt": INPUT + CONV + BN + LOSS.format("")}) == []


def test_batchnorm_only_in_the_test_phase_does_not_count(lint):
    test_bn = BN.replace("}\n", "include { phase: TEST } }\n")
    found = lint('net: "net.prototxt"\nbase_lr: 0.5\n', "SLV003", files={"net.prototxt": INPUT + CONV + test_bn +
                                                                             LOSS.format("")})
    assert len(found) == 1 and "without BatchNorm" in found[0].message


def test_a_summed_loss_lifts_the_lower_limit(lint):
    solver = 'net: "net.prototxt"\nbase_lr: 1e-10\n'
    assert lint(solver, "SLV003", files={"net.prototxt": PLAIN_NET})
    for loss_param in (" loss_param { normalize: false }", " loss_param { normalization: NONE }"):
        assert lint(solver, "SLV003", files={"net.prototxt": INPUT + CONV + LOSS.format(loss_param)}) == []


def test_an_unread_train_net_gets_the_lenient_limits(lint):
    assert lint('net: "absent.prototxt"\nbase_lr: 0.5\n', "SLV003") == []
    assert lint('net: "absent.prototxt"\nbase_lr: 1e-10\n', "SLV003") == []
    assert lint('net: "absent.prototxt"\nbase_lr: 2.0\n', "SLV003")


def test_high_momentum_with_a_high_rate_suggests_ten_times_less(lint):
    found = lint('net: "net.prototxt"\nbase_lr: 0.01\nmomentum: 0.99\n', "SLV003", files={"net.prototxt": PLAIN_NET})
    assert "1/(1 - momentum) = 100" in found[0].message
    assert found[0].fix.title == "Set base_lr: 0.001" and found[0].fix.applicability == UNSAFE


def test_thresholds_come_from_the_config(lint, tmp_path):
    (tmp_path / ".caffelint.yaml").write_text("rules:\n  base-lr-out-of-range:\n    adaptive_max: 0.1\n")
    solver = 'net: "net.prototxt"\ntype: "Adam"\nbase_lr: 0.05\nmomentum: 0.9\n'
    (tmp_path / "net.prototxt").write_text(PLAIN_NET)
    (tmp_path / "solver.prototxt").write_text(solver)
    found = check_paths(["solver.prototxt"], Options.from_kwargs(select=("SLV003",))).findings
    assert [f for f in found if f.code == "SLV003"] == []


def test_missing_base_lr_gets_the_rate_of_its_solver_type(lint):
    found = lint('net: "n.prototxt"\ntype: "AdaDelta"\nmomentum: 0.95\n', "base-lr-missing")
    assert found[0].fix.title == "Add base_lr: 1"


# -- learning-rate policies ------------------------------------------------------------------------


@pytest.mark.parametrize(("policy", "written", "missing", "consequence"), [
    ("step", "gamma: 0.1", ["stepsize"], "CHECK_GT(stepsize, 0)"),
    ("step", "stepsize: 100", ["gamma"], "0 at the first step"),
    ("exp", "", ["gamma"], "0 from iteration 1"),
    ("inv", "gamma: 0.0001", ["power"], "never decays"),
    ("multistep", "gamma: 0.1", ["stepvalue"], "never drops"),
    ("poly", "power: 0.9", ["max_iter"], "NaN"),
    ("poly", "max_iter: 1000", ["power"], "never decays"),
    ("sigmoid", "gamma: 0.1", ["stepsize"], "CHECK_GT(stepsize, 0)"),
    ("sigmoid", "stepsize: 100", ["gamma"], "base_lr / 2"),
])
def test_each_policy_names_what_it_lacks(lint, policy, written, missing, consequence):
    solver = f'net: "n.prototxt"\nbase_lr: 0.01\nlr_policy: "{policy}"\n{written}\n'
    found = lint(solver, "lr-policy-missing-param")
    assert len(found) == 1
    assert all(name in found[0].message for name in missing) and consequence in found[0].message


def test_inv_without_its_fields_gets_lenets_values(lint):
    found = lint('net: "n.prototxt"\nbase_lr: 0.01\nlr_policy: "inv"\n', "SLV004")
    assert found[0].fix.title == "Add gamma: 0.0001, power: 0.75"


def test_step_without_max_iter_gets_no_stepsize_guess(lint):
    found = lint('net: "n.prototxt"\nbase_lr: 0.01\nlr_policy: "step"\n', "SLV004")
    assert found[0].fix.title == "Add gamma: 0.1"


def test_a_missing_policy_follows_the_fields_written(lint):
    found = lint('net: "n.prototxt"\nbase_lr: 0.01\nstepvalue: 100\ngamma: 0.1\n', "SLV004")
    assert found[0].fix.title == 'Add lr_policy: "multistep"'


def test_policy_names_are_case_sensitive(lint):
    found = lint('net: "n.prototxt"\nbase_lr: 0.01\nlr_policy: "Step"\n', "SLV004")
    assert "Unknown learning rate policy: Step" in found[0].message
    assert found[0].fix.title == "Set lr_policy: 'step'"


@pytest.mark.parametrize(("fields", "rule"), [
    ('lr_policy: "exp"\ngamma: 0', "lr-param-out-of-range"),
    ('lr_policy: "inv"\ngamma: -1\npower: 0.75', "lr-param-out-of-range"),
    ('lr_policy: "poly"\npower: -1\nmax_iter: 100', "lr-param-out-of-range"),
    ('lr_policy: "poly"\npower: 1\nmax_iter: -5', "lr-param-out-of-range"),
    ('lr_policy: "sigmoid"\ngamma: 0.1\nstepsize: -3', "lr-param-out-of-range"),
    ('lr_policy: "poly"\npower: 0\nmax_iter: 100', "lr-never-decays"),
    ('lr_policy: "inv"\ngamma: 0\npower: 0.75', "lr-never-decays"),
    ('lr_policy: "exp"\ngamma: 1', "lr-never-decays"),
])
def test_values_that_break_or_cancel_the_schedule(lint, fields, rule):
    assert len(lint(f'net: "n.prototxt"\nbase_lr: 0.01\n{fields}\n', rule)) == 1


def test_unsorted_stepvalues_report_when_the_drops_really_happen(lint):
    solver = 'net: "n.prototxt"\nlr_policy: "multistep"\nstepvalue: 300\nstepvalue: 200\nstepvalue: 100\n'
    found = lint(solver, "stepvalue-unsorted")
    assert len(found) == 1
    assert "iterations 300, 301, 302 instead of 100, 200, 300" in found[0].message
    assert [e.text for e in found[0].fix.edits] == ["100", "300"]  # 200 stays where it is


# -- momentum --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("solver", "rule", "applicability"), [
    ('type: "AdaGrad"\nmomentum: 0.9', "momentum-not-supported", UNSAFE),
    ('type: "AdaDelta"', "momentum-out-of-range", UNSAFE),
    ('type: "AdaDelta"\nmomentum: 0', "momentum-out-of-range", UNSAFE),
    ('type: "Nesterov"\nmomentum: -0.5', "momentum-out-of-range", UNSAFE),
    ('type: "RMSProp"\nrms_decay: -0.1', "rms-decay-out-of-range", UNSAFE),
])
def test_momentum_and_decays_per_solver_type(lint, solver, rule, applicability):
    found = lint(f'net: "n.prototxt"\nbase_lr: 0.01\n{solver}\n', rule)
    assert len(found) == 1 and found[0].fix.applicability == applicability


def test_the_deprecated_enum_counts_as_the_solver_type(lint):
    found = lint('net: "n.prototxt"\nsolver_type: ADAGRAD\nbase_lr: 0.01\nmomentum: 0.9\n', "SLV022")
    assert "Momentum cannot be used with AdaGrad." in found[0].message


def test_plain_sgd_without_momentum_is_fine(lint):
    assert lint('net: "n.prototxt"\nbase_lr: 0.01\n', "SLV007", "SLV022") == []


# -- solver types ----------------------------------------------------------------------------------


def test_a_near_miss_of_a_type_is_an_unsafe_fix(lint):
    found = lint('net: "n.prototxt"\ntype: "Adan"\n', "unknown-solver-type")
    assert found[0].fix.title == "Set type: 'Adam'" and found[0].fix.applicability == UNSAFE


def test_conflicting_type_fields_point_at_both(lint):
    found = lint('net: "n.prototxt"\nsolver_type: SGD\ntype: "SGD"\n', "solver-type-conflict")
    assert found[0].fix.applicability == SAFE
    assert found[0].notes[0].span.start.line == 3


def test_regularization_type_is_only_read_with_weight_decay(lint):
    assert lint('net: "n.prototxt"\nweight_decay: 0\nregularization_type: "L3"\n', "SLV025") == []
    assert lint('net: "n.prototxt"\nweight_decay: 0.001\nregularization_type: "L3"\n', "SLV025")


# -- train and test nets ---------------------------------------------------------------------------


TEST_NET = INPUT + CONV + LOSS.format("") + \
    'layer { name: "acc" type: "Accuracy" bottom: "conv" bottom: "label" top: "acc" include { phase: TEST } }\n'


@pytest.mark.parametrize(("solver", "flagged"), [
    ('net: "net.prototxt"\ntest_iter: 10\ntest_iter: 20\ntest_interval: 100', False),  # two copies of net
    ('net: "net.prototxt"\ntest_net: "net.prototxt"\ntest_iter: 10\ntest_iter: 5\ntest_interval: 100', False),
    ('train_net: "net.prototxt"\ntest_net: "net.prototxt"\ntest_iter: 10\ntest_iter: 5\ntest_interval: 9', True),
    ('train_net: "net.prototxt"\ntest_net_param { name: "t" }\ntest_iter: 10\ntest_interval: 100', False),
    ('train_net: "net.prototxt"\ntest_net_param { name: "t" }\ntest_iter: 10', True),
    ('net: "net.prototxt"', True),  # TEST-phase layers that never run
    ('net: "net.prototxt"\ntest_interval: 0', True),
])
def test_test_iter_counting_follows_init_test_nets(lint, solver, flagged):
    found = lint(solver + "\n", "test-iter-missing", files={"net.prototxt": TEST_NET})
    assert bool(found) == flagged, [f.message for f in found]


def test_a_net_without_test_phase_layers_needs_no_test_iter(lint):
    assert lint('net: "net.prototxt"\n', "SLV008", files={"net.prototxt": PLAIN_NET}) == []


def test_test_states_are_counted_against_test_nets(lint):
    solver = 'train_net: "a.prototxt"\ntest_net: "b.prototxt"\ntest_iter: 5\ntest_interval: 10\n' \
             'test_state { stage: "x" }\ntest_state { stage: "y" }\n'
    found = lint(solver, "test-state-count-mismatch")
    assert found[0].span.start.line == 6 and "2 test_state for 1 test net:" in found[0].message


def test_every_extra_train_net_is_reported_with_the_first(lint):
    found = lint('net: "a.prototxt"\nnet_param { name: "x" }\ntrain_net: "b.prototxt"\n', "train-net-conflict")
    assert [f.span.start.line for f in found] == [2, 3]
    assert all(f.notes[0].span.start.line == 1 for f in found)


def test_recurrent_layers_only_count_in_the_train_phase(lint):
    lstm = INPUT + 'layer { name: "lstm" type: "LSTM" bottom: "data" bottom: "label" top: "h" ' \
                   'recurrent_param { num_output: 4 } include { phase: TEST } }\n'
    assert lint('net: "net.prototxt"\n', "clip-gradients-recurrent", files={"net.prototxt": lstm}) == []
    rnn = lstm.replace('"LSTM"', '"RNN"').replace(" include { phase: TEST }", "")
    assert lint('net: "net.prototxt"\n', "clip-gradients-recurrent", files={"net.prototxt": rnn})


# -- snapshots and display -------------------------------------------------------------------------


def test_snapshot_folders_resolve_like_net_paths(lint, tmp_path):
    (tmp_path / ".git").mkdir()  # the repository root, where `caffe train` runs
    (tmp_path / "snapshots").mkdir()
    (tmp_path / "models" / "lenet").mkdir(parents=True)
    (tmp_path / "models" / "lenet" / "solver.prototxt").write_text('net: "n.prototxt"\nsnapshot: 10\n'
                                                                    'snapshot_prefix: "snapshots/lenet"\n')
    findings = check_paths(["models/lenet/solver.prototxt"],
                           Options.from_kwargs(select=("SLV012",), isolated=True)).findings
    assert findings == []


@pytest.mark.parametrize(("fields", "when"), [
    ("snapshot: 10", "at start"),
    ("snapshot: 0", "after the last iteration"),
])
def test_a_missing_snapshot_folder_says_when_caffe_fails(lint, fields, when):
    found = lint(f'net: "n.prototxt"\n{fields}\nsnapshot_prefix: "nowhere/lenet"\n', "snapshot-dir-missing")
    assert when in found[0].message


def test_no_snapshot_at_all_needs_no_folder(lint):
    solver = 'net: "n.prototxt"\nsnapshot_after_train: false\nsnapshot_prefix: "nowhere/x"\n'
    assert lint(solver, "SLV012") == []


def test_caffe_does_not_expand_the_home_folder(lint):
    found = lint('net: "n.prototxt"\nsnapshot: 10\nsnapshot_prefix: "~/snap/x"\n', "SLV012")
    assert "does not expand ~" in found[0].message


def test_display_above_max_iter_prints_once(lint):
    found = lint('net: "n.prototxt"\nmax_iter: 100\ndisplay: 1000\n', "display-missing")
    assert found[0].fix is None and "only at iteration 0" in found[0].message


def test_max_iter_is_left_to_lr_policy_missing_param_for_poly(lint):
    assert lint('net: "n.prototxt"\nlr_policy: "poly"\npower: 1\n', "max-iter-missing") == []
