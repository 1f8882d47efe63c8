"""LOG002 log-saturated-softmax (catalogue: rules/LOG002.yaml)."""

from __future__ import annotations

import math
from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.log import TEST, TRAIN, Curve, Run, TrainingLog
from caffelint.model.log_curves import fmt, run_prefix, signals

# -ln(FLT_MIN): SoftmaxWithLoss adds -log(max(p, FLT_MIN)) per sample
# (BVLC/caffe:src/caffe/layers/softmax_loss_layer.cpp), FLT_MIN = 1.17549435e-38.
SATURATED = -math.log(1.17549435e-38)


def check_log(log: TrainingLog, ctx: RuleContext) -> Iterator[Finding]:
    tolerance = ctx.options["tolerance"]
    for run in log.runs:
        earliest: dict[str, tuple[int, str]] = {}
        for name, line, message in sorted([*_full(run, tolerance), *_partial(run, ctx.options)],
                                          key=lambda hit: hit[1]):
            earliest.setdefault(name, (line, message))
        if not earliest:
            continue
        line, message = min(earliest.values())
        more = len(earliest) - 1
        extra = f" (and {more} more output{'s' if more > 1 else ''})" if more else ""
        yield ctx.finding(log.span(line), f"{run_prefix(log.runs, run)}{message}{extra}; "
                          f"{_accuracy(run)}lower base_lr, check that labels lie in [0, num_output), "
                          "scale the input (transform_param scale) or add BatchNorm")


def _loss_curves(run: Run) -> Iterator[tuple[str, Curve]]:
    for curve in run.train.values():
        if curve.is_loss:
            yield TRAIN, curve
    for outputs in run.tests.values():
        for curve in outputs.values():
            if curve.is_loss:
                yield TEST, curve


def _full(run: Run, tolerance: float) -> Iterator[tuple[str, int, str]]:
    """Outputs equal to 87.3365: every sample of the batch saturated."""
    for phase, curve in _loss_curves(run):
        hits = [i for i, v in enumerate(curve.values) if abs(v - SATURATED) <= tolerance * SATURATED]
        if hits:
            i = hits[0]
            yield curve.name, curve.lines[i], (
                f"{phase} output {curve.name} = {fmt(curve.values[i])} at iteration {curve.iters[i]} "
                f"({len(hits)} of {len(curve)} values): -ln(FLT_MIN) = 87.3365, the true class got "
                "probability 0 in every sample")
    weights = sum(c.weight for c in run.train.values() if c.is_loss)
    shown = run.train_loss
    if weights > 0 and (run.number("average_loss") or 1) <= 1 and not run.train:
        target = SATURATED * weights
        hits = [i for i, v in enumerate(shown.values) if abs(v - target) <= tolerance * target]
        if hits:
            yield "loss", shown.lines[hits[0]], (f"loss = {fmt(shown.values[hits[0]])} at iteration "
                                         f"{shown.iters[hits[0]]}: 87.3365 × loss weight, a saturated softmax")


def _partial(run: Run, options: dict) -> Iterator[tuple[str, int, str]]:
    """Train outputs that are exact fractions m/N of 87.3365: m of the N samples saturated.

    The other samples then contribute almost nothing, as when batch normalisation makes
    the net very confident (checklist D).  One value can match by chance; many cannot.
    """
    net = run.train_net
    batch = net.batch_size if net else None
    if not batch or batch < 2:
        return
    for out in signals(run).train_losses:
        if out.softmax is False and out.classes is None:
            continue
        curve = out.curve
        hits = []
        for i, value in enumerate(curve.values):
            if not math.isfinite(value):
                continue
            m = value * batch / SATURATED
            if 1 <= round(m) < batch and abs(m - round(m)) <= options["fraction_tolerance"]:
                hits.append(i)
        if len(hits) >= options["min_points"] and len(hits) >= options["min_share"] * len(curve):
            i = hits[0]
            m = round(curve.values[i] * batch / SATURATED)
            yield curve.name, curve.lines[i], (
                f"train output {curve.name} = {fmt(curve.values[i])} at iteration {curve.iters[i]} is "
                f"{m}/{batch} × 87.3365, and {len(hits)} of {len(curve)} values are such exact fractions: "
                f"in those batches some samples got probability 0 for their true class (saturated softmax)")


def _accuracy(run: Run) -> str:
    acc = signals(run).primary_accuracy(TEST)
    if acc is None or not acc.curve or acc.chance_accuracy is None:
        return ""
    last = acc.curve.values[-1]
    if last <= 2 * acc.chance_accuracy:
        return f"test {acc.name} stays at {fmt(last)} (chance {fmt(acc.chance_accuracy)}); "
    return ""
