"""LOG001 log-nan (catalogue: rules/LOG001.yaml)."""

from __future__ import annotations

import math
from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.log import Run, TrainingLog
from caffelint.model.log_curves import fmt, run_prefix

RISE_BEFORE = 2.0  # "the loss grows for several iterations and then turns NaN" (checklist E.18)


def check_log(log: TrainingLog, ctx: RuleContext) -> Iterator[Finding]:
    for run in log.runs:
        first = _first_nonfinite(run)
        if first is None:
            continue
        line, label, name, value, iteration = first
        what = "lr" if label == "lr" else f"{label} {name}"
        parts = [f"{run_prefix(log.runs, run)}{what} = {fmt(value)} at iteration {iteration}, "
                 f"the first non-finite value of the run"]
        parts.append(_history(run, iteration))
        if label == "lr":
            parts.append("the learning rate itself is not a number: check gamma, power and stepsize "
                         f"for lr_policy {run.policy or '?'}")
        elif run.resumed_from and iteration <= run.first_iteration:
            parts.append(f"the run resumed from {run.resumed_from} and was non-finite from its first "
                         "display: the snapshot itself may hold nan weights")
        else:
            parts.append("lower base_lr (÷10), add clip_gradients, and re-run briefly with debug_info: true "
                         "to see the first layer whose data or diff turns nan")
        notes = []
        if run.debug_nonfinite is not None:
            notes.append((log.span(run.debug_nonfinite.line),
                          f"debug_info: first non-finite value: {run.debug_nonfinite.text}"))
        yield ctx.finding(log.span(line), "; ".join(p for p in parts if p), notes=notes)


def _first_nonfinite(run: Run) -> tuple[int, str, str, float, int] | None:
    best = None
    for label, curve in run.curves():
        i = curve.first_nonfinite()
        if i is not None and (best is None or curve.lines[i] < best[0]):
            best = (curve.lines[i], label, curve.name, curve.values[i], curve.iters[i])
    return best


def _history(run: Run, iteration: int) -> str:
    """What the displayed loss did before: finite until when, and whether it was climbing."""
    before = [(it, v) for it, v in zip(run.train_loss.iters, run.train_loss.values)
              if it < iteration and math.isfinite(v)]
    if not before:
        return ""
    last_it, last = before[-1]
    text = f"last finite loss {fmt(last)} at iteration {last_it}"
    lowest = min(v for _, v in before[-10:])
    if len(before) >= 3 and lowest > 0 and last >= RISE_BEFORE * lowest:
        text += f", after rising from {fmt(lowest)}: the run diverged"
    if run.lr:
        text += f" (lr {fmt(run.lr.values[run.lr.index_at(iteration)])} at iteration {iteration})"
    return text
