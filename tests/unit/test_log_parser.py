"""The training-log reader: every line format it must understand, on small real-format texts."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from caffelint.errors import InputError
from caffelint.model.log import read_log
from fixtures.simulate_log import scenarios, simulate

P = "I0210 13:39:22.381027 25210 "  # a glog prefix


def read(tmp_path: Path, text: str):
    path = tmp_path / "train.log"
    path.write_bytes(text.encode("utf-8"))
    return read_log(str(path))


def test_both_iteration_formats_and_outputs(tmp_path):
    log = read(tmp_path, (
        f"{P}solver.cpp:239] Iteration 0 (0 iter/s, 0.032s/10 iters), loss = 2.37343\n"
        f"{P}solver.cpp:258]     Train net output #0: loss = 2.37343 (* 1 = 2.37343 loss)\n"
        f"{P}sgd_solver.cpp:112] Iteration 0, lr = 0.01\n"
        f"{P}solver.cpp:228] Iteration 10, loss = 2.21735\n"
        f"{P}solver.cpp:337] Iteration 10 (7.62135 s), loss = 2.1\n"
    ))
    run = log.runs[0]
    assert list(run.train_loss.iters) == [0, 10, 10]
    assert list(run.train_loss.values) == [2.37343, 2.21735, 2.1]
    assert list(run.train_loss.lines) == [1, 4, 5]
    assert run.train["loss"].weight == 1.0 and run.train["loss"].values[0] == 2.37343
    assert list(run.lr.values) == [0.01]


@pytest.mark.parametrize(("token", "check"), [
    ("nan", math.isnan), ("-nan", math.isnan), ("inf", lambda v: v == math.inf),
    ("-inf", lambda v: v == -math.inf), ("NaN", math.isnan), ("1.#INF", lambda v: v == math.inf),
    ("-1.#IND", math.isnan),
])
def test_non_finite_values_are_kept(tmp_path, token, check):
    log = read(tmp_path, (
        f"{P}solver.cpp:228] Iteration 0, loss = {token}\n"
        f"{P}solver.cpp:244]     Train net output #0: loss = {token} (* 1 = {token} loss)\n"
        f"{P}sgd_solver.cpp:106] Iteration 0, lr = {token}\n"
        f"{P}solver.cpp:404]     Test net output #0: loss = {token} (* 1 = {token} loss)\n"
    ))
    run = log.runs[0]
    for curve in (run.train_loss, run.train["loss"], run.lr, run.tests[0]["loss"]):
        assert len(curve) == 1 and check(curve.values[0]), curve


def test_output_names_with_spaces_colons_and_percent(tmp_path):
    # whksmo/joint-hashing's log names its losses like this
    log = read(tmp_path, (
        f"{P}solver.cpp:239] Iteration 0 (-nan iter/s, 10.3s/1000 iters), loss = 2.48661\n"
        f"{P}solver.cpp:258]     Train net output #0: loss: 50%-fire-rate = 7.63954e-06 (* 1 = 7.63954e-06 loss)\n"
        f"{P}solver.cpp:258]     Train net output #1: loss: forcing-binary = -0.0210878 (* 1 = -0.0210878 loss)\n"
    ))
    train = log.runs[0].train
    assert train["loss: 50%-fire-rate"].values[0] == 7.63954e-06
    assert train["loss: forcing-binary"].values[0] == -0.0210878
    assert log.runs[0].train_loss.values[0] == 2.48661


def test_loss_weight_suffix_and_accuracy_outputs(tmp_path):
    log = read(tmp_path, (
        f"{P}solver.cpp:204]     Train net output #0: loss1/loss1 = 13.0947 (* 0.3 = 3.92842 loss)\n"
        f"{P}solver.cpp:204]     Train net output #1: accuracy = 0.25\n"
    ))
    train = log.runs[0].train
    assert train["loss1/loss1"].weight == 0.3 and train["loss1/loss1"].is_loss
    assert train["accuracy"].weight is None and not train["accuracy"].is_loss


def test_several_test_nets_and_restarts_inside_a_pass(tmp_path):
    log = read(tmp_path, (
        f"{P}solver.cpp:347] Iteration 50, Testing net (#0)\n"
        "I0210 13:39:22.5 25212 data_layer.cpp:73] Restarting data prefetching from start.\n"
        f"{P}solver.cpp:414]     Test net output #0: accuracy = 0.88\n"
        f"{P}solver.cpp:347] Iteration 50, Testing net (#1)\n"
        f"{P}solver.cpp:414]     Test net output #0: accuracy = 0.5\n"
        f"{P}solver.cpp:239] Iteration 50, loss = 0.7\n"
        "I0210 13:39:23.5 25211 data_layer.cpp:73] Restarting data prefetching from start.\n"
    ))
    run = log.runs[0]
    assert run.tests[0]["accuracy"].values[0] == 0.88 and run.tests[1]["accuracy"].values[0] == 0.5
    assert [(p.net, p.iteration, p.restarts) for p in run.test_passes] == [(0, 50, {"25212": 1}), (1, 50, {})]
    assert [(e.thread, e.in_test) for e in run.restarts] == [("25212", 0), ("25211", -1)]


def test_lines_without_glog_prefix_and_ansi_colours(tmp_path):
    log = read(tmp_path, (
        "Iteration 0, loss = 2.3\n"
        "    Train net output #0: loss = 2.3 (* 1 = 2.3 loss)\n"
        f"{P}solver.cpp:270] \x1b[32mIteration 100, Testing net (#0)\x1b[0m\n"
        f"{P}solver.cpp:323] \x1b[32m    Test net output #0: accuracy = 0.1087\x1b[0m\n"
    ))
    run = log.runs[0]
    assert run.train_loss.values[0] == 2.3 and math.isnan(run.train_loss.secs[0])
    assert run.tests[0]["accuracy"].values[0] == 0.1087 and run.test_passes[0].iteration == 100


def test_year_less_dates_wrap_into_the_next_year(tmp_path):
    log = read(tmp_path, (
        "I1231 23:59:59.000000  1 solver.cpp:289] Solving Net\n"
        "I1231 23:59:59.500000  1 solver.cpp:228] Iteration 0, loss = 2\n"
        "I0101 00:00:01.500000  1 solver.cpp:228] Iteration 10, loss = 1\n"
    ))
    secs = log.runs[0].train_loss.secs
    assert secs[1] - secs[0] == pytest.approx(2.0)
    assert secs[0] - log.start_secs == pytest.approx(0.5)


def test_glog_06_dates_with_the_year_and_the_created_header(tmp_path):
    log = read(tmp_path, "I20240229 10:00:00.000000  1 solver.cpp:228] Iteration 0, loss = 2\n")
    assert log.year_known and len(log.runs[0].train_loss) == 1
    log = read(tmp_path, "Log file created at: 2015/07/12 22:28:03\nI0229 10:00:00.0 1 solver.cpp:228] Iteration 0, loss = 2\n")
    assert log.year_known and math.isfinite(log.runs[0].train_loss.secs[0])


def test_solver_echo_top_level_fields_only(tmp_path):
    log = read(tmp_path, (
        f"{P}solver.cpp:48] Initializing solver from parameters: \n"
        "test_iter: 100\n"
        "test_iter: 50\n"
        "base_lr: 0.01\n"
        'lr_policy: "step"\n'
        "net_param {\n"
        "  layer {\n"
        '    name: "data"\n'
        "    base_lr: 99\n"
        "  }\n"
        "}\n"
        "state {\n"
        "phase: TRAIN\n"
        "}\n"
        "stepsize: 1000\n"
        f"{P}solver.cpp:102] Creating training net from net file: net.prototxt\n"
        "stepsize: 77\n"
    ))
    run = log.runs[0]
    assert run.params("test_iter") == ["100", "50"]
    assert run.number("base_lr") == 0.01 and run.param("lr_policy") == "step"
    assert run.number("stepsize") == 1000  # the line after the glog line is not part of the echo


def test_net_setup_gives_classes_loss_weights_and_batch(tmp_path):
    text, _ = simulate("converging")
    log = read(tmp_path, text)
    run = log.runs[0]
    train, test = run.train_net, run.test_net(0)
    assert train.batch_size == 64 and test.batch_size == 100
    assert train.classes("loss") == 10 and test.classes("accuracy") == 10
    assert train.layers["loss"].loss_weights == {"loss": 1.0}
    assert train.is_softmax_loss("loss") and test.is_accuracy("accuracy")
    assert test.outputs == ["accuracy", "loss"]


def test_nvcaffe_set_up_lines(tmp_path):
    log = read(tmp_path, (
        f"{P}layer_factory.hpp:136] Creating layer 'fc8' of type 'InnerProduct'\n"
        f"{P}net.cpp:177] Created Layer fc8 (20)\n"
        f"{P}net.cpp:560] fc8 <- fc7\n"
        f"{P}net.cpp:528] fc8 -> fc8\n"
        f"{P}net.cpp:245] TRAIN Top shape for layer 20 'fc8' 128 1000 (128000)\n"
    ))
    net = log.runs[0].train_net
    assert net.layers["fc8"].type == "InnerProduct" and net.shapes["fc8"] == (128, 1000)


def test_split_tops_lead_back_to_the_scores(tmp_path):
    log = read(tmp_path, (
        f"{P}net.cpp:86] Creating Layer ip2\n{P}net.cpp:382] ip2 -> ip2\n{P}net.cpp:131] Top shape: 60 10 (600)\n"
        f"{P}net.cpp:86] Creating Layer label\n{P}net.cpp:382] label -> label\n{P}net.cpp:131] Top shape: 60 (60)\n"
        f"{P}net.cpp:86] Creating Layer ip2_ip2_0_split\n{P}net.cpp:408] ip2_ip2_0_split <- ip2\n"
        f"{P}net.cpp:86] Creating Layer accuracy\n{P}net.cpp:408] accuracy <- ip2_ip2_0_split_0\n"
        f"{P}net.cpp:408] accuracy <- label\n{P}net.cpp:382] accuracy -> accuracy\n"
    ))
    assert log.runs[0].train_net.classes("accuracy") == 10


def test_debug_info_passes_keep_the_gradient_ends_and_the_training_outputs(tmp_path):
    end = "    [Backward] All net params (data, diff): L1 norm = (1, 2); L2 norm = (3, 4)\n"
    log = read(tmp_path, (
        "Iteration 0, Testing net (#0)\n"
        "    [Forward] Layer relu2, top blob ip1 data: 0\n"  # the test net's: not kept
        "    Test net output #0: accuracy = 0.1\n"
        "    [Forward] Layer relu2, top blob ip1 data: 0.5\n"  # iteration 0's training pass
        "    [Backward] Layer ip2, param blob 0 diff: 0.02\n"
        "    [Backward] Layer ip2, param blob 1 diff: 0.9\n"  # biases are not compared
        "    [Backward] Layer ip1, bottom blob conv1 diff: 0.7\n"
        "    [Backward] Layer conv1, param blob 0 diff: 0.001\n"
        + end +
        "Iteration 0, loss = 2.3\n"
        "    [Forward] Layer relu2, top blob ip1 data: 0\n"
        "    [Backward] Layer ip2, param blob 0 diff: 0.03\n"
        "    [Backward] Layer conv1, param blob 0 diff: 0\n"
        + end +
        "Iteration 10, loss = 2.2\n"
        "    [Forward] Layer relu2, top blob ip1 data: 0\n"
        "    [Backward] Layer ip2, param blob 0 diff: 0.04\n"  # one learnable layer: no pair
        + end +
        "Iteration 20, loss = 2.2\n"
    ))
    run = log.runs[0]
    flow = run.debug.gradients
    assert (flow.lowest, flow.highest) == ("conv1", "ip2")
    assert list(flow.low) == [0.001, 0.0] and list(flow.high) == [0.02, 0.03] and list(flow.lines) == [8, 13]
    assert [run.display_after(line) for line in flow.lines] == [0, 10]
    relu2 = run.debug.outputs[("relu2", "ip1")]
    assert (relu2.passes, relu2.zeros, relu2.since_line) == (3, 2, 11)
    assert run.display_after(relu2.since_line) == 10 and run.display_after(99) is None


def test_debug_info_keeps_norms_and_the_first_nan(tmp_path):
    log = read(tmp_path, (
        f"{P}solver.cpp:228] Iteration 0, loss = 2.3\n"
        f"{P}net.cpp:604]     [Forward] Layer conv1, top blob conv1 data: 0.0123\n"
        f"E0210 13:39:22.4 25210 net.cpp:721]     [Backward] All net params (data, diff): L1 norm = (123.4, 5.6); L2 norm = (12.1, 0.9)\n"
        f"{P}solver.cpp:228] Iteration 10, loss = 2.1\n"
        f"{P}net.cpp:637]     [Backward] Layer ip2, param blob 0 diff: nan\n"
        f"{P}net.cpp:680]     [Update] Layer ip1, param 0 data: inf; diff: 0.1\n"
    ))
    run = log.runs[0]
    assert run.debug_lines == 4
    assert run.debug_norms["L2 diff"].values[0] == 0.9 and run.debug_norms["L1 data"].values[0] == 123.4
    assert run.debug_nonfinite.line == 5 and run.debug_nonfinite.iteration == 10


def test_clipping_and_fatal_lines(tmp_path):
    log = read(tmp_path, (
        f"{P}solver.cpp:228] Iteration 20, loss = 2.3\n"
        f"{P}sgd_solver.cpp:99] Gradient clipping: scaling down gradients (L2 norm 31.6 > 10) by scale factor 0.316\n"
        "F0210 13:39:23.0 25210 io.cpp:67] Check failed: proto.SerializeToOstream(&output)\n"
        "*** Check failure stack trace: ***\n"
    ))
    run = log.runs[0]
    assert list(run.clipping.values) == [31.6] and run.clip_threshold == 10
    assert run.end == "fatal" and run.fatal[0].line == 3 and run.fatal[0].iteration == 20


def test_resumed_and_appended_runs(tmp_path):
    text, truth = simulate("resumed")
    log = read(tmp_path, text)
    assert len(log.runs) == 2
    first, second = log.runs
    assert not first.resumed_from and second.resumed_from == "snapshots/sim_iter_1000.solverstate"
    assert second.first_iteration == 1000 and first.last_iteration == 1000


def test_iteration_going_back_starts_a_new_run(tmp_path):
    log = read(tmp_path, "Iteration 0, loss = 2\nIteration 100, loss = 1\nIteration 0, loss = 2.1\nIteration 100, loss = 1.2\n")
    assert [list(r.train_loss.values) for r in log.runs] == [[2.0, 1.0], [2.1, 1.2]]
    assert log.runs[1].line == 3


def test_multi_gpu_solving_lines_stay_one_run(tmp_path):
    lines = [f"I0404 16:55:06.43{i} 7250{i} solver.cpp:392] Solving AlexNet" for i in range(8)]
    lines += [f"{P}solver.cpp:313] Iteration 2 (3.2 iter/s, 0.3s/100 iter), loss = 6.9"]
    log = read(tmp_path, "\n".join(lines) + "\n")
    assert len(log.runs) == 1 and log.runs[0].net_name == "AlexNet"


def test_a_fatal_after_the_end_is_a_run_of_its_own(tmp_path):
    log = read(tmp_path, (
        f"{P}solver.cpp:228] Iteration 0, loss = 2.3\n"
        f"{P}solver.cpp:309] Optimization stopped early.\n"
        "F0417 23:51:48.1 10742 io.cpp:36] Check failed: fd != -1 (-1 vs. -1) File not found: s.prototxt\n"
    ))
    assert [r.end for r in log.runs] == ["stopped", "fatal"]


@pytest.mark.parametrize("name", sorted(scenarios()))
def test_the_reader_reads_back_what_the_simulator_wrote(tmp_path, name):
    text, truth = simulate(name, seed=5)
    log = read(tmp_path, text)
    trained = [r for r in log.runs if r.has_data]
    assert len(trained) == len([t for t in truth.train if t])
    for run, train, test, lr in zip(trained, [t for t in truth.train if t], truth.test, truth.lr):
        assert _same(list(zip(run.train_loss.iters, run.train_loss.values))[:len(train)], train)
        got = list(zip(run.tests[0]["loss"].iters, run.tests[0]["loss"].values, run.tests[0]["accuracy"].values))
        assert _same(got, test)
        assert _same(list(zip(run.lr.iters, run.lr.values)), lr)


def _same(got, want) -> bool:
    """Equal up to the 6 significant digits Caffe prints; nan equals nan."""
    if len(got) != len(want):
        return False
    for a, b in zip(got, want):
        for x, y in zip(a, b):
            if not (x == pytest.approx(y, rel=1e-5, abs=1e-12) or (math.isnan(x) and math.isnan(y))):
                return False
    return True


def test_unreadable_input_is_a_one_line_error(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        read_log(str(tmp_path / "missing.log"))
    with pytest.raises(InputError, match="is a directory"):
        read_log(str(tmp_path))
    (tmp_path / "empty.log").write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        read_log(str(tmp_path / "empty.log"))


def test_undecodable_bytes_and_nul_padding_do_not_break_reading(tmp_path):
    path = tmp_path / "train.log"
    path.write_bytes(b"Iteration 0, loss = 2.3\n\xff\xfe garbage\nIteration 10, loss = 2.0\n" + b"\0" * 524)
    log = read_log(str(path))
    assert list(log.runs[0].train_loss.values) == [2.3, 2.0] and log.line_count == 4
