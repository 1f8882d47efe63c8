"""LOG006 log-lr-too-low (catalogue: rules/LOG006.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.log import TrainingLog
from caffelint.model.log_curves import Series, fmt, run_prefix, signals
from caffelint.model.log_smoothing import bucketed, linear_fit, rolling_median


def check_log(log: TrainingLog, ctx: RuleContext) -> Iterator[Finding]:
    opts = ctx.options
    for run in log.runs:
        sig = signals(run)
        data = _at_base_lr(sig.train.after(sig.warmed_up(opts["warmup"])), sig)
        if len(data) < opts["min_displays"]:
            continue
        part = bucketed(data, 400)
        level = rolling_median(part.values, 5)
        x = (part.iters - part.iters[0]) / max(1, int(part.iters[-1] - part.iters[0]))
        slope, _, r2 = linear_fit(x, level)
        tenth = max(1, len(level) // 10)
        head, middle, tail = (float(level[:tenth].mean()), float(level[len(level) // 2 - tenth // 2:][:tenth].mean()),
                              float(level[-tenth:].mean()))
        first_half, second_half = head - middle, middle - tail
        if slope >= 0 or r2 < opts["min_r2"] or first_half <= 0 or second_half <= 0:
            continue
        ratio = first_half / second_half
        if not 1 / opts["max_curvature"] <= ratio <= opts["max_curvature"] or head <= 0:
            continue  # fast first then slower (healthy), or speeding up (leaving a plateau)
        lr = sig.lr_at(part.iter_at(0))
        lr_text = f" at lr {fmt(lr)}" if lr is not None else ""
        yield ctx.finding(log.span(part.line_at(0)), (
            f"{run_prefix(log.runs, run)}training loss falls in a straight line from {head:.4g} to {tail:.4g} "
            f"over iterations {part.iter_at(0)}-{part.iter_at(len(part) - 1)}{lr_text} (R² {r2:.2f}; the first "
            f"half fell {first_half:.3g}, the second {second_half:.3g}): steps this small never reach the "
            f"fast early drop of a well-set rate; try base_lr ×3 to ×10"))


def _at_base_lr(data: Series, sig) -> Series:
    """The points before the lr first fell below half its starting value."""
    segments = sig.lr_segments
    if not segments:
        return data
    base = segments[0][2]
    for start, _, lr in segments:
        if lr < 0.5 * base:
            keep = data.iters < start
            return Series(data.name, data.iters[keep], data.values[keep], data.lines[keep])
    return data
