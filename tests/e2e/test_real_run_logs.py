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


RUNS = {
    # a healthy run: falls and converges
    "converging": (GOOD_NET, solver(1000, test_interval="100")),
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
        assert "log-nan" not in names and "log-diverging" not in names
        return
    assert names & EXPECTED[name], f"{name}: expected one of {sorted(EXPECTED[name])}, got {sorted(names)}"
    if name == "diverging":
        assert EXPECTED[name] <= names


def test_the_regimes_really_happened(logs):
    """Guard against a vacuous pass: each run shows the behaviour its name promises."""
    def losses(name):
        return [float(v) for v in re.findall(r"Iteration \d+(?: \([^)]*\))?, loss = ([-0-9.e+]+)",
                                             logs[name].read_text())]

    def test_losses(name):
        return [float(v) for v in re.findall(r"Test net output #\d+: loss = ([-0-9.e+naif]+)",
                                             logs[name].read_text())]

    assert "nan" in logs["diverging"].read_text()
    converging = losses("converging")
    assert converging[-1] < 0.3 * converging[0]
    plateau = losses("plateau")
    assert abs(plateau[-1] - plateau[0]) < 0.5
    overfit_train, overfit_test = losses("overfitting"), test_losses("overfitting")
    assert overfit_train[-1] < 0.05 and max(overfit_test[1:]) > min(overfit_test[1:]) * 1.2
