"""LOG005 log-diverging (catalogue: rules/LOG005.yaml)."""

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
        data = sig.train
        if len(data) < 3:
            continue
        level = rolling_median(data.values, 5) if len(data) >= 7 else data.values
        start = float(data.values[0])
        lowest = np.minimum.accumulate(level)
        rise = level - lowest
        threshold = np.maximum((opts["rise_factor"] - 1) * lowest, opts["min_rise"] * abs(start))
        risen = (rise >= threshold) & (rise > 0)
        found = _first_lasting(risen.tolist(), opts["window"])
        if found is None:
            continue
        first, length = found
        last = first + length - 1
        low_at = int(np.flatnonzero(level[:first + 1] == lowest[first])[0])
        peak = float(level[first:last + 1].max())
        until = "to the end of the run" if last == len(data) - 1 else f"until iteration {data.iter_at(last)}"
        lr = sig.lr_at(data.iter_at(first))
        lr_text = f" at lr {fmt(lr)}" if lr is not None else ""
        yield ctx.finding(log.span(data.line_at(first)), (
            f"{run_prefix(log.runs, run)}training loss rose from {fmt(float(lowest[first]))} (iteration "
            f"{data.iter_at(low_at)}) to {fmt(float(level[first]))} at iteration {data.iter_at(first)} and "
            f"stayed up {until} (peak {fmt(peak)}, {length} displays)"
            f"{lr_text}; the updates overshoot: lower base_lr (÷10) or add clip_gradients"))


def _first_lasting(flags: list[bool], window: int) -> tuple[int, int] | None:
    """(first index, length) of the first stretch of `flags` lasting `window` points or to the end (≥ 3)."""
    n = len(flags)
    run = 0
    for i in range(n - 1, -1, -1):
        run = run + 1 if flags[i] else 0
        flags[i] = run  # length of the stretch of True starting at i
    for i, length in enumerate(flags):
        if length and (length >= window or (i + length == n and length >= 3)):
            return i, length
    return None
