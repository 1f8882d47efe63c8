"""LOG017 log-not-converged (catalogue: rules/LOG017.yaml)."""

from __future__ import annotations

import math
from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.log import TEST, TrainingLog
from caffelint.model.log_curves import Signals, fmt, run_prefix, series, signals
from caffelint.model.log_smoothing import bucketed, rolling_median, smoothing_window


def check_log(log: TrainingLog, ctx: RuleContext) -> Iterator[Finding]:
    import numpy as np

    opts = ctx.options
    for run in log.runs:
        if run.end == "fatal" or any(not math.isfinite(v) for v in run.train_loss.values[-3:]):
            continue  # a run that crashed or went nan did not stop for lack of iterations
        sig = signals(run)
        data = sig.train
        if len(data) < opts["min_displays"]:
            continue
        tail = data.after(data.iter_at(0) + (1 - opts["tail"]) * (data.iter_at(len(data) - 1) - data.iter_at(0)))
        if len(tail) < 5:
            continue
        coarse = bucketed(data, 2000)  # long logs: smooth medians of buckets, not every display
        level = rolling_median(coarse.values, smoothing_window(len(coarse)))[coarse.iters >= tail.iter_at(0)]
        k = max(1, len(level) // 10)
        start, end = float(np.mean(level[:k])), float(np.mean(level[-k:]))
        if start <= 0 or (start - end) / start < opts["min_drop"]:
            continue
        accuracy = _accuracy_gain(sig, tail.iter_at(0), opts)
        if accuracy is False:
            continue  # the test accuracy stopped improving: more iterations would not help it
        yield ctx.finding(log.span(tail.line_at(len(tail) - 1)), (
            f"{run_prefix(log.runs, run)}training was still improving when the run ended at iteration "
            f"{tail.iter_at(len(tail) - 1)}: the loss fell {100 * (start - end) / start:.0f} % over the last "
            f"{100 * opts['tail']:.0f} % of the iterations ({start:.4g} → {end:.4g}){accuracy or ''}; "
            f"train longer (raise max_iter, stretching the lr schedule with it)"))


def _accuracy_gain(sig: Signals, start: int, opts: dict) -> str | bool | None:
    """Text when test accuracy still rose over the tail, False when it did not, None without one."""
    acc = sig.primary_accuracy(TEST)
    if acc is None:
        return None
    data = series(acc.curve).after(start)
    if len(data) < 2:
        return None
    gain = float(data.values[-1] - data.values[0])
    if gain < opts["min_accuracy_gain"]:
        return False
    return f" and test {acc.name} rose {fmt(float(data.values[0]))} → {fmt(float(data.values[-1]))}"
