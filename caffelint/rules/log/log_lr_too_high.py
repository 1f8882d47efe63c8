"""LOG007 log-lr-too-high (catalogue: rules/LOG007.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.log import TEST, TrainingLog
from caffelint.model.log_curves import Signals, fmt, run_prefix, series, signals

ADVICE = "lower base_lr (÷3 to ÷10)"


def check_log(log: TrainingLog, ctx: RuleContext) -> Iterator[Finding]:
    for run in log.runs:
        sig = signals(run)
        found = _stuck_high(sig, ctx.options) or _oscillating(sig, ctx.options)
        if found is not None:
            line, message = found
            yield ctx.finding(log.span(line), f"{run_prefix(log.runs, run)}{message}; {ADVICE}")


def _stuck_high(sig: Signals, opts: dict) -> tuple[int, str] | None:
    """Checklist C.7: a loss that stops decreasing while still high (near where it started)."""
    import numpy as np

    if sig.run.resumed_from or sig.first_iteration > 0:
        return None  # a resumed run starts trained: its first loss is no reference
    data = sig.train.after(sig.warmed_up(opts["warmup"]))
    if len(data) < opts["min_displays"] or not len(sig.train):
        return None
    first = float(sig.train.values[0])
    half = data.values[len(data) // 2:]
    level = float(np.median(half))
    chance = sig.chance_train_loss
    if first <= 0 or not opts["stuck_fraction"] * first <= level <= 2 * first:
        return None  # it fell (fine), or it rose far (log-diverging)
    if chance is not None and abs(level - chance) <= 0.1 * chance:
        return None  # at or near ln(C): log-chance-level's picture, not an overshoot
    mid = len(data) // 2
    return data.line_at(mid), (
        f"training loss is stuck high: {fmt(first)} at the start, median {fmt(level)} over iterations "
        f"{data.iter_at(mid)}-{data.iter_at(len(data) - 1)}"
        + (f", {level / chance:.1f}× the chance level ln(C)" if chance and level > 1.5 * chance else ""))


def _oscillating(sig: Signals, opts: dict) -> tuple[int, str] | None:
    """AUTOTRAINER's unstable check: test accuracy swings up and down by ≥ ζ on ≥ η of the tests."""
    acc = sig.primary_accuracy(TEST)
    if acc is None:
        return None
    data = series(acc.curve).after(sig.warmed_up(opts["judge_after"]))
    if len(data) < opts["min_evaluations"]:
        return None
    steps = data.values[1:] - data.values[:-1]
    turns = [i + 1 for i in range(1, len(steps))
             if steps[i] * steps[i - 1] < 0 and abs(steps[i]) >= opts["swing"] and abs(steps[i - 1]) >= opts["swing"]]
    if len(turns) < opts["share"] * (len(steps) - 1):
        return None
    i = turns[0]
    return data.line_at(i - 1), (
        f"test {acc.name} swings up and down by ≥ {fmt(opts['swing'])} on {len(turns)} of {len(steps) - 1} "
        f"test passes after iteration {data.iter_at(0)} (e.g. {fmt(data.values[i - 1])} → {fmt(data.values[i])} "
        f"→ {fmt(data.values[i + 1]) if i + 1 < len(data) else '…'})")
