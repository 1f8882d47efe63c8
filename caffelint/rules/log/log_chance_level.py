"""LOG003 log-chance-level (catalogue: rules/LOG003.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.log import TEST, Run, TrainingLog
from caffelint.model.log_curves import Output, Series, chance_formula, fmt, run_prefix, series, signals
from caffelint.model.log_smoothing import longest_stretch, rolling_median

ADVICE = ("the net gives every input the same answer: check that the lr is neither too high (a collapse) "
          "nor too low, that weights have fillers, that ReLUs are not dead, and that labels match the images")


def check_log(log: TrainingLog, ctx: RuleContext) -> Iterator[Finding]:
    for run in log.runs:
        found = _train_at_chance(run, ctx.options) or _test_at_chance(run, ctx.options)
        if found is not None:
            line, message = found
            yield ctx.finding(log.span(line), f"{run_prefix(log.runs, run)}{message}; {ADVICE}")


def _stretch(data: Series, chance: float, options: dict, run: Run, minimum: int) -> tuple[int, int] | None:
    """The longest stretch at chance after warm-up, if long enough and lasting (to the end, or 25 %)."""
    sig = signals(run)
    data = data.after(sig.warmed_up(options["warmup"]))
    if len(data) < minimum:
        return None
    level = rolling_median(data.values, 5) if len(data) >= 5 else data.values
    first, last = longest_stretch(abs(level - chance) <= options["tolerance"] * chance)
    if last - first + 1 < minimum:
        return None
    span = max(1, sig.last_iteration - sig.first_iteration)
    lasting = data.iter_at(last) - data.iter_at(first) >= options["min_share"] * span
    at_end = last >= len(data) - 2
    if not (lasting or at_end):
        return None
    return data.iter_at(first), data.iter_at(last), data.line_at(first), data.values[first:last + 1]


def _accuracy_note(run: Run, iteration: int, net: int = 0) -> tuple[bool, str]:
    """(consistent with chance, text): test accuracy near k/C near `iteration`, when logged."""
    acc = signals(run).primary_accuracy(TEST, net)
    if acc is None or acc.chance_accuracy is None or not acc.curve:
        return True, ""
    value = acc.curve.values[acc.curve.index_at(iteration)]
    near = value <= 2 * acc.chance_accuracy
    return near, f"; test {acc.name} {fmt(value)} at iteration {acc.curve.iters[acc.curve.index_at(iteration)]} " \
                 f"(chance {fmt(acc.chance_accuracy)})"


def _train_at_chance(run: Run, options: dict) -> tuple[int, str] | None:
    sig = signals(run)
    chance = sig.chance_train_loss
    if chance is None:
        return None
    found = _stretch(sig.train, chance, options, run, options["min_displays"])
    if found is None:
        return None
    start, end, line, values = found
    near, note = _accuracy_note(run, end)
    if not near:
        return None
    return line, (f"training loss stays at {fmt(float(values.mean()))} ≈ {chance_formula(sig.train_losses)}, "
                  f"the loss of a uniform guess, from iteration {start} to {end} "
                  f"({len(values)} displays){note}")


def _test_at_chance(run: Run, options: dict) -> tuple[int, str] | None:
    sig = signals(run)
    for net in sorted(run.tests):
        for out in sig.test_losses(net):
            if not out.chance_loss:
                continue
            found = _stretch(series(out.curve), out.chance_loss, options, run, options["min_evaluations"])
            if found is None:
                continue
            start, end, line, values = found
            near, note = _accuracy_note(run, end, net)
            if near:
                return line, _test_message(out, net, start, end, values, note)
    return None


def _test_message(out: Output, net: int, start: int, end: int, values, note: str) -> str:
    return (f"test net #{net} {out.name} stays at {fmt(float(values.mean()))} ≈ ln({out.classes}) = "
            f"{fmt(out.chance_loss)}, the loss of a uniform guess, from iteration {start} to {end} "
            f"({len(values)} test passes){note}")
