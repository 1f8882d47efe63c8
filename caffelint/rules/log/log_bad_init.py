"""LOG004 log-bad-init (catalogue: rules/LOG004.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.log import TEST, Run, TrainingLog
from caffelint.model.log_curves import chance_formula, fmt, run_prefix, signals

ADVICE = ("an untrained net should be unsure, not confidently wrong: scale the input "
          "(transform_param scale: 0.00390625 for 0-255 pixels), give weights a filler with a small "
          "variance (xavier, msra), and check that labels lie in [0, num_output)")


def check_log(log: TrainingLog, ctx: RuleContext) -> Iterator[Finding]:
    factor = ctx.options["factor"]
    for run in log.runs:
        if run.first_iteration != 0 or run.resumed_from:
            continue  # a resumed run starts from trained weights
        found = _test_at_zero(run, factor) or _train_at_zero(run, factor)
        if found is not None:
            line, message = found
            yield ctx.finding(log.span(line), f"{run_prefix(log.runs, run)}{message}; {ADVICE}")


def _test_at_zero(run: Run, factor: float) -> tuple[int, str] | None:
    sig = signals(run)
    for net in sorted(run.tests):
        for out in sig.test_losses(net):
            if not out.chance_loss or not out.curve or out.curve.iters[0] != 0:
                continue
            value = out.curve.values[0]
            if value >= factor * out.chance_loss:
                return out.curve.lines[0], (
                    f"iteration-0 test {out.name} = {fmt(value)} is {value / out.chance_loss:.1f}× "
                    f"ln({out.classes}) = {fmt(out.chance_loss)}, the loss of a uniform guess"
                    f"{_accuracy(run, net)}")
    return None


def _train_at_zero(run: Run, factor: float) -> tuple[int, str] | None:
    # One batch of one head says little (GoogLeNet's auxiliary heads start high); the total does.
    sig = signals(run)
    heads = sig.train_losses
    chance = sig.chance_train_loss
    shown = run.train_loss
    if chance and shown and shown.iters[0] == 0 and shown.values[0] >= factor * chance:
        return shown.lines[0], (f"iteration-0 training loss {fmt(shown.values[0])} is "
                                f"{shown.values[0] / chance:.1f}× {chance_formula(heads)}, the loss of a uniform guess")
    return None


def _accuracy(run: Run, net: int) -> str:
    acc = signals(run).primary_accuracy(TEST, net)
    if acc is None or not acc.curve or acc.curve.iters[0] != 0 or acc.chance_accuracy is None:
        return ""
    return f"; test {acc.name} {fmt(acc.curve.values[0])} (chance {fmt(acc.chance_accuracy)})"
