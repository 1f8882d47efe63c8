"""LOG018 log-vanishing-gradients (catalogue: rules/LOG018.yaml).

Reads the weight gradients debug_info prints on display iterations (log_debug):
the lowest learnable layer's against the highest one's, on the later half of
the displays, where a net has settled past its first steps.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.log import Run, TrainingLog
from caffelint.model.log_curves import fmt, run_prefix

SATURATING = ("Sigmoid", "TanH")


def check_log(log: TrainingLog, ctx: RuleContext) -> Iterator[Finding]:
    opts = ctx.options
    for run in log.runs:
        flow = run.debug.gradients
        later = range(len(flow) // 2, len(flow))
        usable = [i for i in later if flow.high[i] > 0 and math.isfinite(flow.high[i]) and math.isfinite(flow.low[i])]
        if len(usable) < opts["displays"]:
            continue
        ratio = statistics.median(flow.low[i] / flow.high[i] for i in usable)
        low = statistics.median(flow.low[i] for i in usable)
        high = statistics.median(flow.high[i] for i in usable)
        if ratio >= opts["ratio"] or low >= opts["below"]:
            continue
        iteration = run.display_after(flow.lines[usable[-1]])
        at = f", up to iteration {iteration}" if iteration is not None else ""
        yield ctx.finding(log.span(flow.lines[usable[-1]]), (
            f"{run_prefix(log.runs, run)}the weight gradient of the lowest learnable layer, {flow.lowest}, is "
            f"{ratio:.1e} times the highest one's, {flow.highest} (mean |diff| {fmt(low)} against {fmt(high)}, "
            f"median over the last {len(usable)} debug_info displays{at}): the gradient vanishes on its way "
            f"down and the first layers barely learn; {_remedy(run)}"))


def _remedy(run: Run) -> str:
    net = run.train_net
    saturating = [layer.name for layer in net.layers.values() if layer.type in SATURATING] if net else []
    if saturating:
        named = saturating[0] if len(saturating) == 1 else f"{saturating[0]}, ..."
        return (f"{len(saturating)} Sigmoid/TanH layer{'s' if len(saturating) > 1 else ''} ({named}) "
                "squash it at every step: ReLU, BatchNorm, or msra/xavier fillers keep it alive")
    return "BatchNorm, shortcut connections, or msra/xavier fillers keep it alive"
