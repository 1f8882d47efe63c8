"""LOG013 log-epoch-pattern (catalogue: rules/LOG013.yaml)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.log import Run, TrainingLog
from caffelint.model.log_curves import run_prefix, signals
from caffelint.model.log_smoothing import running_mean


def check_log(log: TrainingLog, ctx: RuleContext) -> Iterator[Finding]:
    import numpy as np

    opts = ctx.options
    for run in log.runs:
        restarts = train_restarts(run)
        if len(restarts) < opts["min_epochs"]:
            continue
        gaps = np.diff([e.iteration for e in restarts])
        period = float(np.median(gaps)) if len(gaps) else 0.0
        if period <= 0 or np.median(np.abs(gaps - period)) > 0.2 * period:
            continue  # no steady epoch length
        data = signals(run).train_unsmoothed
        if data is None:
            continue
        first, last = restarts[0].iteration, restarts[-1].iteration + period
        keep = (data.iters >= first) & (data.iters < last)
        iters, values = data.iters[keep], data.values[keep]
        per_epoch = len(values) / max(1.0, (last - first) / period)
        if per_epoch < opts["points_per_epoch"] or len(values) < 2 * opts["bins"]:
            continue
        residual = values - running_mean(values, int(per_epoch) | 1)  # the trend over one epoch
        phase = (((iters - first) % period) / period * opts["bins"]).astype(int)
        r2 = _between_share(residual, phase, opts["bins"])
        chance = (opts["bins"] - 1) / max(1, len(values) - 1)  # expected share for a shuffled order
        if r2 < max(opts["min_r2"], 3 * chance):
            continue
        line = restarts[1].line if len(restarts) > 1 else restarts[0].line
        yield ctx.finding(log.span(line), (
            f"{run_prefix(log.runs, run)}the training loss rises and falls with the epoch: "
            f"{100 * r2:.0f} % of its variation follows the position in the epoch ({len(restarts)} "
            f"`Restarting data prefetching` lines, one every {period:.0f} iterations): the data is read in "
            f"the same order every epoch and is probably grouped (by class, by source); shuffle it: "
            f"convert_imageset --shuffle when building the LMDB, or `shuffle: true` in image_data_param"))


def train_restarts(run: Run) -> list:
    """Restarts of the training data: the thread that restarts most outside test passes."""
    outside = [e for e in run.restarts if e.in_test < 0]
    if not outside:
        return []
    thread = Counter(e.thread for e in outside).most_common(1)[0][0]
    return [e for e in outside if e.thread == thread]


def _between_share(values, groups, count: int) -> float:
    """Share of the variance of `values` explained by their group means (one-way ANOVA R²)."""

    total = float(((values - values.mean()) ** 2).sum())
    if total <= 0:
        return 0.0
    between = 0.0
    for g in range(count):
        member = values[groups == g]
        if len(member):
            between += len(member) * float((member.mean() - values.mean()) ** 2)
    return between / total
