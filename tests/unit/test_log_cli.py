"""`caffelint log` as a user runs it: formats, tables, plots, exit codes, one-line errors."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.simulate_log import write

REPO = Path(__file__).resolve().parents[2]


def caffelint(*args: str, cwd: Path | None = None, prelude: str = "") -> subprocess.CompletedProcess:
    code = f"import sys\n{prelude}\nfrom caffelint.cli import main\nsys.argv = ['caffelint'] + sys.argv[1:]\nmain()"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd or REPO, capture_output=True, text=True,
                          timeout=120)


def read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="") as handle:
        return list(csv.reader(handle))


@pytest.fixture
def nan_log(tmp_path) -> Path:
    path = tmp_path / "nan.log"
    write(str(path), "nan")
    return path


@pytest.fixture
def healthy_log(tmp_path) -> Path:
    path = tmp_path / "healthy.log"
    write(str(path), "converging")
    return path


def test_text_report_and_exit_codes(nan_log, healthy_log):
    result = caffelint("log", str(nan_log))
    assert result.returncode == 1, result.stderr
    head, _, findings = result.stdout.partition("\n\n")
    assert head.startswith(f"{nan_log}: 1 run, ") and "lr: 10 at 0-" in head and "(fixed)" in head
    assert "displayed loss: first" in head and "test#0 accuracy: first 0.1" in head
    lines = findings.splitlines()
    assert all(line.startswith(f"{nan_log}:") for line in lines[:-1])
    assert any(" LOG001 [error] log-nan: " in line for line in lines)
    assert findings.rstrip().endswith(".") and "Found 2 errors" in findings
    assert caffelint("log", "--exit-zero", str(nan_log)).returncode == 0
    assert caffelint("log", str(healthy_log)).returncode == 0
    assert "No problems found" in caffelint("log", str(healthy_log)).stdout


def test_failure_threshold_and_selection(tmp_path):
    path = tmp_path / "noisy.log"
    write(str(path), "noisy")
    assert caffelint("log", str(path)).returncode == 0  # info only
    assert caffelint("log", "--failure-threshold", "info", str(path)).returncode == 1
    assert "LOG011" not in caffelint("log", "--ignore", "log-noisy", str(path)).stdout
    assert caffelint("log", "--select", "LOG001", "--failure-threshold", "info", str(path)).returncode == 0


def test_json_report(nan_log):
    data = json.loads(caffelint("log", "--format", "json", str(nan_log)).stdout)
    assert data["path"] == str(nan_log) and data["lines"] > 100
    (run,) = data["runs"]
    assert run["solver"]["base_lr"] == "10" and run["end"] == "done"
    assert run["train"]["loss"]["final"] == "nan" and run["train"]["loss"]["nonfinite"] > 0
    finding = next(f for f in data["findings"] if f["code"] == "LOG001")
    assert finding["line"] > 1 and finding["column"] == 1 and finding["iteration"] == 100
    assert finding["severity"] == "error" and finding["name"] == "log-nan"


def test_csv_tables_match_parse_log(healthy_log, tmp_path):
    result = caffelint("log", "--format", "csv", str(healthy_log))
    assert result.returncode == 0, result.stderr
    train, test = Path(f"{healthy_log}.train"), Path(f"{healthy_log}.test")
    assert result.stdout == f"wrote {train} (100 rows)\nwrote {test} (11 rows)\n"
    rows = read_csv(train)
    assert rows[0] == ["NumIters", "Seconds", "LearningRate", "loss"]
    assert rows[1][:3] == ["0.0", rows[1][1], "0.01"] and float(rows[1][1]) >= 0
    assert float(rows[2][0]) == 20.0 and float(rows[-1][2]) == pytest.approx(0.001)
    test_rows = read_csv(test)
    assert test_rows[0] == ["NumIters", "Seconds", "LearningRate", "accuracy", "loss"]
    assert [r[0] for r in test_rows[1:]] == [f"{float(i * 200)}" for i in range(11)]
    out = tmp_path / "tables"
    caffelint("log", "--format", "csv", "--output-dir", str(out), str(healthy_log))
    assert sorted(p.name for p in out.iterdir()) == ["healthy.log.test", "healthy.log.train"]


def test_csv_keeps_nan_rows(nan_log):
    caffelint("log", "--format", "csv", str(nan_log))
    rows = read_csv(Path(f"{nan_log}.train"))
    assert rows[-1][3] == "nan" and len(rows) == 101


@pytest.mark.parametrize("ext", [".png", ".svg", ".html"])
def test_plots(healthy_log, tmp_path, ext):
    out = tmp_path / f"curves{ext}"
    result = caffelint("log", "--plot", str(out), str(healthy_log))
    assert result.returncode == 0, result.stderr
    data = out.read_bytes()
    if ext == ".png":
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 20_000
    elif ext == ".svg":
        assert b"<svg" in data[:2000] and b"iteration" in data
    else:
        text = data.decode()
        assert text.startswith("<!DOCTYPE html>") and "<svg" in text and "No problems found" in text
        assert "http" not in text.split("<svg", 1)[0]  # self-contained: nothing fetched


def test_plot_marks_findings(nan_log, tmp_path):
    out = tmp_path / "nan.svg"
    caffelint("log", "--plot", str(out), str(nan_log))
    svg = out.read_text()
    assert "LOG001 log-nan" in svg and "LOG005 log-diverging" in svg


@pytest.mark.parametrize(("args", "message"), [
    (["log", "no/such.log"], "caffelint: error: no/such.log: cannot read"),
    (["log", "--plot", "out.pdf", "{log}"], "use a .png, .svg or .html file name"),
    (["log", "{net}"], "not a Caffe training log"),
    (["log", "--select", "NOPE", "{log}"], "unknown rule selector"),
])
def test_bad_input_is_one_line_and_exit_2(healthy_log, tmp_path, args, message):
    net = tmp_path / "net.prototxt"
    net.write_text('name: "x"\n')
    result = caffelint(*[a.format(log=healthy_log, net=net) for a in args], cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_plot_without_matplotlib_is_one_line(healthy_log, tmp_path):
    blocked = "sys.modules['matplotlib'] = None; sys.modules['matplotlib.figure'] = None"
    result = caffelint("log", "--plot", str(tmp_path / "x.png"), str(healthy_log), prelude=blocked)
    assert result.returncode == 2
    assert result.stderr == "caffelint: error: --plot needs matplotlib: pip install 'caffelint[plot]'\n"


def test_csv_without_test_passes_writes_only_the_train_table(tmp_path):
    path = tmp_path / "short.log"
    path.write_text("Iteration 0, loss = 2.3\nIteration 10, loss = 2.1\n")
    result = caffelint("log", "--format", "csv", str(path))
    assert result.stdout == f"wrote {path}.train (2 rows)\n"
    assert read_csv(Path(f"{path}.train")) == [["NumIters", "Seconds", "LearningRate", "loss"],
                                               ["0.0", "", "", "2.3"], ["10.0", "", "", "2.1"]]
    assert not Path(f"{path}.test").exists()
