"""LOG012 log-loss-spikes (catalogue: rules/LOG012.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.log import Run, TrainingLog
from caffelint.model.log_curves import Series, fmt, run_prefix, signals
from caffelint.model.log_smoothing import trailing_median


def check_log(log: TrainingLog, ctx: RuleContext) -> Iterator[Finding]:
    opts = ctx.options
    for run in log.runs:
        sig = signals(run)
        # The display averages `average_loss` iterations: a spike there is no single hard sample.
        data = sig.displayed if len(sig.displayed) else sig.train_unsmoothed
        found = {spike[1]: spike for spike in spikes(data, opts)} if data is not None else {}
        if not found:
            continue
        line, iteration, value, median = min(found.values())
        yield ctx.finding(log.span(line), (
            f"{run_prefix(log.runs, run)}training loss jumped to {fmt(value)} at iteration {iteration}, "
            f"{value / median:.0f}× the median {fmt(median)} of the displays before, and came back "
            f"({len(found)} such spike{'s' if len(found) > 1 else ''} in the run){_clipping(run)}"))


def spikes(data: Series, opts: dict) -> Iterator[tuple[int, int, float, float]]:
    """(line, iteration, value, median before) of each point ≥ factor × the trailing median that recovers."""
    import numpy as np

    values = data.values
    before, spread = trailing_median(values, opts["window"], spread=True)
    # far above the recent level, and far outside its usual scatter (batch-1 losses scatter widely)
    jumps = (before > 0) & (values >= opts["factor"] * before) & (values - before >= opts["factor"] * spread)
    for i in np.flatnonzero(jumps):
        after = values[i + 1:i + 1 + opts["recovery"]]
        if len(after) and (after <= 2 * before[i]).any():
            yield data.line_at(int(i)), data.iter_at(int(i)), float(values[i]), float(before[i])


def _clipping(run: Run) -> str:
    clips = len(run.clipping)
    if not clips:
        return "; a few huge gradients threw the weights off: cap them with clip_gradients in the solver"
    span = max(1, run.last_iteration - run.first_iteration)
    return (f"; clip_gradients {fmt(run.clip_threshold or 0)} is on and clipped {clips} updates "
            f"({100 * clips / span:.0f} % of iterations): lower the threshold or base_lr")
