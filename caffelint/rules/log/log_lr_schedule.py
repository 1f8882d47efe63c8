"""LOG015 log-lr-schedule (catalogue: rules/LOG015.yaml)."""

from __future__ import annotations

import math
from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.log import Run, TrainingLog
from caffelint.model.log_curves import fmt, run_prefix

# Policies whose rate changes with the iteration (BVLC/caffe:src/caffe/solvers/sgd_solver.cpp).
CHANGING = ("step", "multistep", "exp", "inv", "poly", "sigmoid")


def check_log(log: TrainingLog, ctx: RuleContext) -> Iterator[Finding]:
    for run in log.runs:
        found = _reaches_zero(run) or _never_changes(run, ctx.options)
        if found is not None:
            line, message = found
            yield ctx.finding(log.span(line), f"{run_prefix(log.runs, run)}{message}")


def _reaches_zero(run: Run) -> tuple[int, str] | None:
    lr = run.lr
    for i, value in enumerate(lr.values):
        if value == 0 and i + 1 < len(lr):  # training went on with steps of size 0
            why = ""
            if run.policy in ("step", "multistep", "exp", "sigmoid") and run.param("gamma") is None:
                why = (f": lr_policy {run.policy} without gamma, and caffe.proto gives gamma no default, "
                       "so base_lr × 0^step = 0 after the first step")
            elif run.policy in ("step", "multistep") and run.number("gamma") == 0:
                why = ": gamma is 0"
            return lr.lines[i], (f"lr = 0 from iteration {lr.iters[i]} on ({len(lr) - i} displays): the weights "
                                 f"no longer change{why}; set gamma (0.1 is usual)")
    return None


def _never_changes(run: Run, options: dict) -> tuple[int, str] | None:
    lr = run.lr
    policy = run.policy
    if policy not in CHANGING or len(lr) < options["min_displays"]:
        return None
    values = [v for v in lr.values if math.isfinite(v)]
    if not values or max(values) != min(values):
        return None
    first, last = lr.iters[0], lr.iters[-1]
    reason = _why_constant(run, policy, first, last)
    if reason is None:
        return None
    return lr.lines[0], (f"lr stayed {fmt(values[0])} from iteration {first} to {last} under lr_policy "
                         f"{policy}: {reason}")


def _why_constant(run: Run, policy: str, first: int, last: int) -> str | None:
    """Why the schedule never acted, or None when it was not due to act yet."""
    max_iter = run.number("max_iter")
    if policy == "step":
        stepsize = run.number("stepsize")
        if stepsize and max_iter and stepsize >= max_iter:
            return f"stepsize {fmt(stepsize)} ≥ max_iter {fmt(max_iter)}, so the first step never comes"
        if stepsize and last < stepsize:
            return None
        if run.number("gamma") == 1:
            return "gamma is 1, so every step multiplies by 1"
        return f"the first step was due at stepsize {fmt(stepsize)} and never came" if stepsize else "it never stepped"
    if policy == "multistep":
        steps = [float(v) for v in run.params("stepvalue")]
        if steps and max_iter and min(steps) >= max_iter:
            return f"every stepvalue is ≥ max_iter {fmt(max_iter)}, so no step ever comes"
        if steps and last < min(steps):
            return None
        if not steps:
            return "no stepvalue is set, so there is no step to take"
        return "gamma is 1" if run.number("gamma") == 1 else "the stepvalues passed without a change"
    if policy in ("exp", "inv", "sigmoid") and not run.number("gamma"):
        return "gamma is 0 (or missing), so the rate never moves"
    if policy == "poly" and not run.number("power"):
        return "power is 0 (or missing), so (1 - iter/max_iter)^0 = 1"
    return f"the rate should move every iteration between {first} and {last}"
