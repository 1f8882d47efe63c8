"""LOG008 log-plateau (catalogue: rules/LOG008.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.log import TEST, Run, TrainingLog
from caffelint.model.log_curves import (
    STEPPED_POLICIES,
    Signals,
    fmt,
    run_prefix,
    segment_points,
    segments,
    signals,
)
from caffelint.model.log_smoothing import bucketed, rolling_median, round_iterations, smoothing_window


def check_log(log: TrainingLog, ctx: RuleContext) -> Iterator[Finding]:
    for run in log.runs:
        sig = signals(run)
        if run.policy and run.policy not in STEPPED_POLICIES:
            continue  # inv, poly, exp, sigmoid already lower the lr all the time
        found = [p for p in _plateaus(sig, ctx.options)]
        if found:
            line, message = found[0]
            more = f" ({len(found) - 1} more lr stretch{'es' if len(found) > 2 else ''} end flat)" if len(found) > 1 else ""
            yield ctx.finding(log.span(line), f"{run_prefix(log.runs, run)}{message}{more}")


def _plateaus(sig: Signals, options: dict) -> Iterator[tuple[int, str]]:
    data = sig.train
    if len(data) < options["min_displays"]:
        return
    initial = float(data.values[0])
    spans = segments(sig)
    for i, (start, end, lr) in enumerate(spans):
        following = spans[i + 1][0] if i + 1 < len(spans) else None
        part = bucketed(segment_points(data, start, end, following), 2000)
        if len(part) < options["min_displays"]:
            continue
        level = rolling_median(part.values, smoothing_window(len(part)))
        flat = _flat_from(level, options["tolerance"], options["window"])
        if flat is None:
            continue
        end_iter = part.iter_at(len(part) - 1)
        seg_span = max(1, end_iter - part.iter_at(0))
        held = end_iter - part.iter_at(flat)
        value = float(level[flat])
        if (len(part) - flat < options["window"] or held < options["min_share"] * seg_span
                or not 0 < value < initial or value <= options["converged"] * initial
                or level[:flat + 1].max() - value < options["tolerance"] * value
                or _at_chance(sig, value) or _accuracy_rose(sig, part.iter_at(flat), end_iter, options)):
            continue
        band = (float(level[flat:].min()), float(level[flat:].max()))
        yield part.line_at(flat), _message(sig.run, part.iter_at(flat), end_iter, start, band, lr,
                                           following is not None, _test_note(sig, part.iter_at(flat), end_iter))


def _flat_from(level, tolerance: float, after: int) -> int | None:
    """The first index (from `after` on) from which the curve stays within ±tolerance of its value there.

    Like TFP's min_num_steps, the first displays of a stretch are never judged flat.
    """
    for a in range(after, len(level)):
        ref = abs(float(level[a]))
        if ref > 0 and abs(level[a:] - level[a]).max() <= tolerance * ref:
            return a
    return None


def _at_chance(sig: Signals, value: float) -> bool:
    """Flat at ln(C) is no learning at all: log-chance-level's business, not a step's."""
    chance = sig.chance_train_loss
    return chance is not None and abs(value - chance) <= 0.02 * chance


def _accuracy_rose(sig: Signals, start: int, end: int, options: dict) -> bool:
    """Checklist F.24: lower the lr when loss *and* accuracy flatten; a rising accuracy is progress."""
    acc = sig.primary_accuracy(TEST)
    if acc is None or len(acc.curve) < 2:
        return False
    a, b = acc.curve.values[acc.curve.index_at(start)], acc.curve.values[acc.curve.index_at(end)]
    return (1 - a) - (1 - b) > options["tolerance"] * (1 - a)  # the error rate fell


def _test_note(sig: Signals, start: int, end: int) -> str:
    acc = sig.primary_accuracy(TEST)
    if acc is None or len(acc.curve) < 2:
        return ""
    a, b = acc.curve.index_at(start), acc.curve.index_at(end)
    if b <= a:
        return ""
    return f"; test {acc.name} {fmt(acc.curve.values[a])} → {fmt(acc.curve.values[b])} meanwhile"


def _message(run: Run, flat: int, end: int, start: int, band: tuple[float, float], lr: float | None,
             stepped: bool, note: str) -> str:
    lr_text = f"lr {fmt(lr)}" if lr is not None else "the lr"
    after = "until the lr dropped" if stepped else "to the end of the run"
    head = (f"training loss flat between {band[0]:.4g} and {band[1]:.4g} from iteration {flat} {after} "
            f"at iteration {end} "
            f"while {lr_text} stayed the same{note}")
    step = round_iterations(flat - start)
    policy = run.policy or "fixed"
    if policy == "multistep":
        advice = f"drop the lr there: add `stepvalue: {round_iterations(flat)}` (gamma 0.1)"
    elif policy == "step":
        advice = f"drop the lr there: stepsize ≈ {step} (it is {run.param('stepsize') or '?'})"
    else:
        advice = f"drop the lr there: `lr_policy: \"step\"`, gamma 0.1, stepsize ≈ {step}"
    return f"{head}; {advice} (Caffe's solver guide: divide the lr by 10 when the loss plateaus)"
