"""Broken -> fixed -> trains, on real Caffe with real data.

A LeNet-style config with the checklist's mistakes (raw 0-255 input, base_lr far
too high, a classifier without weight_filler, labels 1..10, an LMDB built
without --shuffle) is checked by caffelint, diverges on real Caffe, is
diagnosed from the real log, fixed by `caffelint fix --apply --unsafe-fixes`
plus the data remedies caffelint prints, and then trains to >= 95% accuracy.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from fixtures.e2e import lenet
from fixtures.e2e.digits import write_list
from tests.e2e.conftest import caffelint

pytestmark = pytest.mark.e2e


def final_accuracy(log: str) -> float:
    values = re.findall(r"Test net output #\d+: accuracy = ([0-9.eE+-]+)", log)
    assert values, "the log has no test accuracy"
    return float(values[-1])


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, caffe, digits) -> Path:
    """The broken project: net, solver, and LMDBs built from 1-based, class-sorted lists."""
    work = tmp_path_factory.mktemp("lenet")
    (work / "net.prototxt").write_text(lenet.NET, encoding="utf-8")
    (work / "solver.prototxt").write_text(lenet.SOLVER.format(max_iter=100), encoding="utf-8")
    (work / "snapshots").mkdir()
    for split in ("train", "test"):
        listfile = digits.root / f"{split}_broken.txt"
        write_list(listfile, digits.entries, split, label_offset=1, order="sorted")
        caffe.convert(digits.root, listfile, work / f"{split}_lmdb", shuffle=False)
    return work


def findings(work: Path) -> list[dict]:
    result = caffelint("check", "--format", "json", "solver.prototxt", cwd=work)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def test_broken_config_is_reported_diverges_is_diagnosed_then_fixed_and_trains(workspace, caffe, digits):
    before = findings(workspace)
    names = {f["name"] for f in before}
    # caffelint reports each mistake before any GPU hour is spent
    for expected in ("input-not-normalized", "base-lr-out-of-range", "missing-weight-filler",
                     "label-not-zero-based", "label-out-of-range", "data-not-shuffled"):
        assert expected in names, f"{expected} not reported; got {sorted(names)}"

    # real Caffe diverges on it
    run = caffe.train(workspace / "solver.prototxt")
    broken_log = workspace / "broken.log"
    broken_log.write_text(run.stderr, encoding="utf-8")
    assert re.search(r"Iteration \d+, loss = -?nan", run.stderr), run.stderr[-3000:]

    # caffelint log diagnoses the real log: NaN, and the 87.3365 of a saturated softmax
    result = caffelint("log", "--format", "json", "broken.log", cwd=workspace)
    diagnosis = json.loads(result.stdout)
    log_findings = diagnosis["findings"] if isinstance(diagnosis, dict) else diagnosis
    log_names = {f["name"] for f in log_findings}
    assert "log-nan" in log_names, log_names
    assert "log-saturated-softmax" in log_names, log_names
    assert any("87.3365" in f["message"] for f in log_findings)

    # the fix: caffelint's own edits to the solver and the net ...
    fixed = caffelint("fix", "--apply", "--unsafe-fixes", "solver.prototxt", cwd=workspace)
    assert fixed.returncode in (0, 1), fixed.stderr
    net = (workspace / "net.prototxt").read_text(encoding="utf-8")
    assert "scale: 0.00390625" in net
    assert "# the classifier: no weight_filler" in net  # comments survive fixing
    solver = (workspace / "solver.prototxt").read_text(encoding="utf-8")
    assert "base_lr: 10 " not in solver and "# LeNet on the 8x8 digits" in solver

    # ... plus the data remedies it printed: relabel from 0, rebuild shuffled
    remedies = " ".join(f["message"] for f in before)
    assert "convert_imageset --shuffle" in remedies
    assert "subtract 1" in remedies
    for split in ("train", "test"):
        listfile = digits.root / f"{split}_fixed.txt"
        write_list(listfile, digits.entries, split, label_offset=0, order="sorted")
        caffe.convert(digits.root, listfile, workspace / f"{split}_lmdb", shuffle=(split == "train"))

    after = findings(workspace)
    assert not [f for f in after if f["severity"] == "error"], after
    remaining = {f["name"] for f in after}
    for gone in ("input-not-normalized", "base-lr-out-of-range", "missing-weight-filler",
                 "label-not-zero-based", "label-out-of-range", "data-not-shuffled"):
        assert gone not in remaining

    # real Caffe now trains to >= 95% test accuracy
    solver_text = (workspace / "solver.prototxt").read_text(encoding="utf-8")
    (workspace / "solver.prototxt").write_text(solver_text.replace("max_iter: 100", "max_iter: 1000"),
                                               encoding="utf-8")
    shutil.rmtree(workspace / "snapshots")
    (workspace / "snapshots").mkdir()
    trained = caffe.train(workspace / "solver.prototxt")
    (workspace / "fixed.log").write_text(trained.stderr, encoding="utf-8")
    assert trained.returncode == 0, trained.stderr[-3000:]
    accuracy = final_accuracy(trained.stderr)
    print(f"test accuracy before: {final_accuracy(run.stderr):.4f}, after the fix: {accuracy:.4f}")
    assert accuracy >= 0.95

    # and the converging log gets no error-level diagnosis
    result = caffelint("log", "--format", "json", "fixed.log", cwd=workspace)
    diagnosis = json.loads(result.stdout)
    log_findings = diagnosis["findings"] if isinstance(diagnosis, dict) else diagnosis
    assert not [f for f in log_findings if f["severity"] == "error"], log_findings
