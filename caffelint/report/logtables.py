"""parse_log.py-compatible tables: `<log>.train` and `<log>.test` in a folder.

BVLC/caffe:tools/extra/parse_log.py writes CSV (csv.excel dialect, header row)
with the columns NumIters, Seconds (since the first `Solving` line),
LearningRate, then one column per `Train net output` / `Test net output` name.
Unlike it, these tables keep nan and inf rows (parse_log drops them, and dies on
`-nan`), give each row the lr of its own iteration (parse_log lags one display),
and write the tests of net #i > 0 to `<log>.test<i>` instead of mixing them.
Runs follow one another in file order, as parse_log would read them.
"""

from __future__ import annotations

import csv
import io
import math
import os

from caffelint.errors import InputError
from caffelint.model.log import Curve, Run, TrainingLog
from caffelint.source import encode
from caffelint.writer import write_bytes_atomic


def write_tables(log: TrainingLog, folder: str) -> list[tuple[str, int]]:
    """Write the tables into `folder`; (path, data rows) of each file written.

    A table without rows is not written (parse_log.py skips it too).
    """
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{folder}: cannot create the output folder: {exc.strerror or exc}") from None
    base = os.path.join(folder, os.path.basename(log.path))
    tables = [(f"{base}.train", _train_rows(log))]
    for net in sorted({net for run in log.runs for net in run.tests}):
        tables.append((f"{base}.test" + (str(net) if net else ""), _test_rows(log, net)))
    return [(path, _write(path, table)) for path, table in tables if table[1]]


def _write(path: str, table: tuple[list[str], list[list]]) -> int:
    header, rows = table
    buffer = io.StringIO()
    writer = csv.writer(buffer, dialect=csv.excel)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    write_new(path, encode(buffer.getvalue()))
    return len(rows)


def write_new(path: str, data: bytes) -> None:
    """Write atomically; a file that did not exist gets the usual mode (0666 less the umask),
    not the 0600 of the temporary file it is renamed from."""
    existed = os.path.exists(path)
    write_bytes_atomic(path, data)
    if not existed:
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(path, 0o666 & ~mask)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return repr(float(value))


def _seconds(log: TrainingLog, secs: float) -> float | None:
    start = log.start_secs
    return round(secs - start, 6) if start is not None and math.isfinite(secs) else None


def _lr(run: Run, iteration: int) -> float | None:
    if not run.lr:
        return None
    return run.lr.values[run.lr.index_at(iteration)]


def _train_rows(log: TrainingLog) -> tuple[list[str], list[list]]:
    names: list[str] = []
    for run in log.runs:
        for name in run.train or {"loss": None}:
            if name not in names:
                names.append(name)
    rows = []
    for run in log.runs:
        # Without `Train net output` lines (the oldest logs) the displayed loss is the one column.
        curves: dict[str, Curve] = run.train or {"loss": run.train_loss}
        anchor = next(iter(curves.values()))
        for i, iteration in enumerate(anchor.iters):
            values = [_value_at(curves.get(n), i, iteration) for n in names]
            rows.append([iteration, _seconds(log, anchor.secs[i]), _lr(run, iteration), *values])
    return ["NumIters", "Seconds", "LearningRate", *names], rows


def _test_rows(log: TrainingLog, net: int) -> tuple[list[str], list[list]]:
    names: list[str] = []
    for run in log.runs:
        for name in run.tests.get(net, {}):
            if name not in names:
                names.append(name)
    rows = []
    for run in log.runs:
        curves = run.tests.get(net, {})
        if not curves:
            continue
        anchor = max(curves.values(), key=len)
        for i, iteration in enumerate(anchor.iters):
            values = [_value_at(curves.get(n), i, iteration) for n in names]
            rows.append([iteration, _seconds(log, anchor.secs[i]), _lr(run, iteration), *values])
    return ["NumIters", "Seconds", "LearningRate", *names], rows


def _value_at(curve: Curve | None, index: int, iteration: int) -> float | None:
    if curve is None or index >= len(curve) or curve.iters[index] != iteration:
        return None
    return curve.values[index]
