"""Real logs from real runs feed the log rules: converging, diverging, plateau, overfitting.

Each run is real Caffe training the digits LeNet in one deliberately chosen
regime; `caffelint log` must diagnose each the way a practitioner would.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from fixtures.e2e import lenet
from fixtures.e2e.digits import write_list
from tests.e2e.conftest import caffelint
from tests.e2e.test_caffe_refusals import GOOD_NET, GOOD_SOLVER

pytestmark = pytest.mark.e2e


def solver(max_iter: int, **changes: str) -> str:
    text = GOOD_SOLVER.replace("max_iter: 2\n", f"max_iter: {max_iter}\n").replace("display: 1\n", "display: 10\n")
    for key, value in changes.items():
        text = re.sub(rf"^{key}: .*$", f"{key}: {value}", text, flags=re.M)
    return text


def deep_sigmoid_net(depth: int = 8) -> str:
    """The digits classified by `depth` InnerProduct + Sigmoid layers of 64 units: a textbook
    case of vanishing gradients."""
    head = GOOD_NET[:GOOD_NET.index('layer {\n  name: "conv1"')]
    body, bottom = [], "data"
    for i in range(1, depth + 1):
        body.append(f'layer {{\n  name: "fc{i}"\n  type: "InnerProduct"\n  bottom: "{bottom}"\n  top: "fc{i}"\n'
                    f'  inner_product_param {{\n    num_output: 64\n'
                    f'    weight_filler {{ type: "gaussian" std: 0.05 }}\n  }}\n}}\n'
                    f'layer {{\n  name: "sig{i}"\n  type: "Sigmoid"\n  bottom: "fc{i}"\n  top: "fc{i}"\n}}\n')
        bottom = f"fc{i}"
    tail = GOOD_NET[GOOD_NET.index('layer {\n  name: "ip2"'):].replace('bottom: "ip1"', f'bottom: "{bottom}"', 1)
    return head + "".join(body) + tail


# ip1's bias starts at -100: relu2 gets only negative inputs and never outputs anything
DEAD_RELU_NET = GOOD_NET.replace('    num_output: 64\n    weight_filler { type: "xavier" }\n',
                                 '    num_output: 64\n    weight_filler { type: "xavier" }\n'
                                 '    bias_filler { type: "constant" value: -100 }\n')
DEBUG_INFO = "debug_info: true\n"

RUNS = {
    # a healthy run: falls and converges (its debug_info lines show healthy gradients and outputs)
    "converging": (GOOD_NET, solver(1000, test_interval="100") + DEBUG_INFO),
    # deep sigmoid stacks: the first layer's weight gradient is a vanishing fraction of the last one's
    "vanishing": (deep_sigmoid_net(), solver(200, test_interval="100") + DEBUG_INFO),
    # a ReLU that never fires: nothing above it learns
    "dead-relu": (DEAD_RELU_NET, solver(200, test_interval="100") + DEBUG_INFO),
    # the checklist's broken config on its broken data: diverges to NaN through 87.3365
    "diverging": (lenet.NET, lenet.SOLVER.format(max_iter=60)),
    # a learning rate a thousand times too small: the loss barely moves
    "plateau": (GOOD_NET, solver(1500, base_lr="0.00001", lr_policy='"fixed"', test_interval="100")),
    # 40 training images and a long run: train loss falls to ~0 while the test loss rises
    "overfitting": (GOOD_NET.replace("batch_size: 64", "batch_size: 40"),
                    solver(3000, base_lr="0.05", weight_decay="0", lr_policy='"fixed"', test_interval="100")),
}
EXPECTED = {
    "converging": set(),
    "vanishing": {"log-vanishing-gradients"},
    "dead-relu": {"log-dead-layer"},
    "diverging": {"log-nan", "log-saturated-softmax"},
    "plateau": {"log-plateau", "log-lr-too-low", "log-chance-level", "log-not-converged"},
    "overfitting": {"log-overfitting"},
}


@pytest.fixture(scope="module")
def logs(tmp_path_factory, caffe, digits, good_lmdbs, broken_lmdbs) -> dict[str, Path]:
    small = digits.root / "train_small_lmdb"
    write_list(digits.root / "train_small.txt", digits.entries, "train", order="shuffled", limit=40)
    caffe.convert(digits.root, digits.root / "train_small.txt", small, shuffle=True)
    out = {}
    for name, (net, solver_text) in RUNS.items():
        work = tmp_path_factory.mktemp(name)
        train, test = broken_lmdbs if name == "diverging" else good_lmdbs
        (work / "train_lmdb").symlink_to(small if name == "overfitting" else train)
        (work / "test_lmdb").symlink_to(test)
        (work / "snapshots").mkdir()
        (work / "net.prototxt").write_text(net, encoding="utf-8")
        (work / "solver.prototxt").write_text(solver_text, encoding="utf-8")
        run = caffe.train(work / "solver.prototxt", timeout=900)
        log = work / f"{name}.log"
        log.write_text(run.stderr, encoding="utf-8")
        out[name] = log
    return out


def diagnose(log: Path) -> list[dict]:
    result = caffelint("log", "--format", "json", log.name, cwd=log.parent)
    assert result.returncode in (0, 1), result.stderr
    data = json.loads(result.stdout)
    return data["findings"] if isinstance(data, dict) else data


@pytest.mark.parametrize("name", sorted(RUNS))
def test_log_rules_on_real_runs(logs, name):
    found = diagnose(logs[name])
    names = {f["name"] for f in found}
    if name == "converging":
        assert not [f for f in found if f["severity"] == "error"], found
        assert not names & {"log-nan", "log-diverging", "log-vanishing-gradients", "log-dead-layer"}, names
        return
    assert names & EXPECTED[name], f"{name}: expected one of {sorted(EXPECTED[name])}, got {sorted(names)}"
    if name in ("diverging", "vanishing", "dead-relu"):
        assert EXPECTED[name] <= names
    if name == "dead-relu":
        dead = next(f for f in found if f["name"] == "log-dead-layer")
        assert dead["message"].startswith("relu2 (ReLU) outputs only zeros"), dead["message"]
        assert [f["name"] for f in found].count("log-dead-layer") == 1  # not the layers it starves


def test_the_regimes_really_happened(logs):
    """Guard against a vacuous pass: each run shows the behaviour its name promises."""
    def losses(name):
        return [float(v) for v in re.findall(r"Iteration \d+(?: \([^)]*\))?, loss = ([-0-9.e+]+)",
                                             logs[name].read_text())]

    def test_losses(name):
        return [float(v) for v in re.findall(r"Test net output #\d+: loss = ([-0-9.e+naif]+)",
                                             logs[name].read_text())]

    assert "nan" in logs["diverging"].read_text()
    debug = logs["converging"].read_text()
    assert "[Backward] Layer conv1, param blob 0 diff" in debug and "[Forward] Layer relu2, top blob" in debug
    lowest = [float(v) for v in re.findall(r"Layer fc1, param blob 0 diff: (\S+)", logs["vanishing"].read_text())]
    highest = [float(v) for v in re.findall(r"Layer ip2, param blob 0 diff: (\S+)", logs["vanishing"].read_text())]
    assert len(lowest) == len(highest) >= 10 and max(lo / hi for lo, hi in zip(lowest, highest)) < 1e-3
    relu2 = re.findall(r"\[Forward\] Layer relu2, top blob ip1 data: (\S+)", logs["dead-relu"].read_text())
    assert len(relu2) >= 10 and set(relu2) == {"0"}
    converging = losses("converging")
    assert converging[-1] < 0.3 * converging[0]
    plateau = losses("plateau")
    assert abs(plateau[-1] - plateau[0]) < 0.5
    overfit_train, overfit_test = losses("overfitting"), test_losses("overfitting")
    assert overfit_train[-1] < 0.05 and max(overfit_test[1:]) > min(overfit_test[1:]) * 1.2


def test_the_summary_shows_the_gradient_ends(logs):
    result = caffelint("log", logs["vanishing"].name, cwd=logs["vanishing"].parent)
    assert result.returncode == 1, result.stderr  # a warning
    assert "debug_info weight gradient (mean |diff|), lowest layer fc1 / highest ip2: " in result.stdout
