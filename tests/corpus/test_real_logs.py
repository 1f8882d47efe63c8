"""Every real training log in ../shared/logs: read without a crash, diagnosed as SOURCES.tsv says.

SOURCES.tsv names each log's repository and says what it shows, starting with a
kind: converging, nan, 87.3365, chance-level, diverging, overfitting, plateau,
crash, resumed, other.  A converging log gets no error-level finding; the
others get the rule that names their problem.  The logs stay in ../shared.
"""

from __future__ import annotations

import csv
import math
import re

import pytest

from caffelint.config import Options
from caffelint.logdiag import diagnose_log
from tests.conftest import shared_dir

KIND_RULES = {
    "nan": "log-nan",
    "87.3365": "log-saturated-softmax",
    "chance-level": "log-chance-level",
    "diverging": "log-diverging",
    "overfitting": "log-overfitting",
    "plateau": "log-plateau",
    "crash": "log-fatal-check",
    "resumed": "log-fatal-check",  # the mistyped relaunch between the runs
}


def sources() -> list[dict]:
    with (shared_dir() / "logs" / "SOURCES.tsv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


ROWS = [pytest.param(row, id=row["local_path"].split("/")[-1][:60]) for row in sources()]


def kind_of(row: dict) -> str:
    return re.match(r"[\w.-]+", row["what_it_shows"]).group(0)


@pytest.fixture(scope="module")
def reports() -> dict:
    options = Options.from_kwargs(isolated=True)
    return {row["local_path"]: diagnose_log(str(shared_dir() / "logs" / row["local_path"]), options)
            for row in sources()}


def test_there_are_real_logs_of_every_kind():
    kinds = {kind_of(row) for row in sources()}
    assert {"converging", "nan", "87.3365", "chance-level", "overfitting", "plateau"} <= kinds
    assert len(ROWS) >= 20


@pytest.mark.parametrize("row", ROWS)
def test_read_whole_and_without_crash(reports, row):
    report = reports[row["local_path"]]
    data = (shared_dir() / "logs" / row["local_path"]).read_bytes()
    assert report.log.line_count == data.count(b"\n") + (not data.endswith(b"\n"))  # every line read
    assert not [f for f in report.findings if f.name == "internal-error"], report.findings
    trained = [r for r in report.log.runs if r.has_data]
    assert trained, "no iteration read"
    for run in trained:
        assert len(run.train_loss) or len(run.train) or run.test_passes
        assert all(math.isfinite(s) for s in run.train_loss.secs) or not report.log.start_secs


@pytest.mark.parametrize("row", ROWS)
def test_diagnosis_agrees_with_what_the_log_shows(reports, row):
    report = reports[row["local_path"]]
    kind = kind_of(row)
    errors = [f for f in report.findings if f.severity == 3]
    names = {f.name for f in report.findings}
    if kind == "converging":
        assert errors == [], [f.message for f in errors]
    elif kind in KIND_RULES:
        assert KIND_RULES[kind] in names, f"{kind}: got {sorted(names)}"


def test_resumed_runs_are_reported_one_by_one(reports):
    (row,) = [r for r in sources() if kind_of(r) == "resumed"]
    runs = [r for r in reports[row["local_path"]].log.runs if r.has_data]
    assert len(runs) == 3 and [bool(r.resumed_from) for r in runs] == [False, True, True]
    assert runs[1].first_iteration == 34048000 and runs[2].last_iteration == 81920000


def test_several_test_nets_are_kept_apart(reports):
    (row,) = [r for r in sources() if "THREE test nets" in r["what_it_shows"]]
    run = reports[row["local_path"]].log.runs[0]
    assert sorted(run.tests) == [0, 1, 2]
    assert [run.test_net(i).classes("loss_f") for i in range(3)] == [100, 100, 100]


def test_the_chance_level_of_weighted_heads(reports):
    (row,) = [r for r in sources() if r["local_path"].endswith("caffe.INFO")]
    finding = next(f for f in reports[row["local_path"]].findings if f.name == "log-chance-level")
    assert "0.3·ln(196) + 0.3·ln(196) + 1·ln(196) = 8.44498" in finding.message


def test_a_broken_display_is_noticed(reports):
    (row,) = [r for r in sources() if "smoothed-loss artifact" in r["what_it_shows"]]
    from caffelint.model.log_curves import signals

    assert signals(reports[row["local_path"]].log.runs[0]).display_broken


def test_overfitting_before_a_collapse(reports):
    # GoogLeNet on Stanford Cars: the auxiliary heads' test losses rise (loss1 4.97 at 4,800 -> ~9.5) while
    # the training loss falls, from ~5k to ~20k iterations; then the run collapses to chance
    (row,) = [r for r in sources() if r["local_path"].endswith("caffe.INFO")]
    report = reports[row["local_path"]]
    (finding,) = [f for f in report.findings if f.name == "log-overfitting"]
    assert 5000 < report.iteration_of(finding) < 21000
    assert "loss1/loss1 rose from its best 4.96834 (iteration 4800)" in finding.message
    assert "predictions grow overconfident" in finding.message
    assert {"log-diverging", "log-chance-level"} <= {f.name for f in report.findings}


def test_no_false_overfitting(reports):
    for row in sources():
        if kind_of(row) in ("converging", "nan", "87.3365", "diverging", "plateau"):
            names = {f.name for f in reports[row["local_path"]].findings}
            assert "log-overfitting" not in names, row["local_path"]
