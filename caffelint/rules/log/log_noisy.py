"""LOG011 log-noisy (catalogue: rules/LOG011.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.log import TrainingLog
from caffelint.model.log_curves import fmt, run_prefix, signals
from caffelint.model.log_smoothing import rolling_median


def check_log(log: TrainingLog, ctx: RuleContext) -> Iterator[Finding]:
    import numpy as np

    opts = ctx.options
    for run in log.runs:
        sig = signals(run)
        data = sig.train_unsmoothed
        if data is None or len(data) < 2 * opts["min_displays"]:
            continue
        half = data.after(data.iter_at(len(data) // 2))
        level = float(np.median(half.values))
        width = float(np.median(np.abs(half.values - rolling_median(half.values, 9))))
        initial = float(np.median(data.values[:5]))  # the start of the curve, not one noisy batch
        if level <= 0 or initial <= 0:
            continue  # losses with negative terms have no level to compare with
        if width < opts["relative_width"] * level or width < opts["min_width"] * initial:
            continue
        net = run.train_net
        batch = net.batch_size if net else None
        iter_size = run.number("iter_size") or 1
        batch_text = (f"batch_size {batch}" + (f" × iter_size {int(iter_size)}" if iter_size > 1 else "")
                      if batch else "the batch")
        yield ctx.finding(log.span(half.line_at(0)), (
            f"{run_prefix(log.runs, run)}the per-iteration training loss scatters ±{fmt(width)} around its "
            f"trend, {100 * width / level:.0f} % of its level {fmt(level)}, over iterations {half.iter_at(0)}-"
            f"{half.iter_at(len(half) - 1)}: adjacent batches differ too much; {batch_text} is small for this "
            f"data: raise it (or iter_size) so each update averages more samples"))
