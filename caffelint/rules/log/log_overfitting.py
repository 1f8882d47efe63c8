"""LOG009 log-overfitting (catalogue: rules/LOG009.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.log import TEST, TRAIN, TrainingLog
from caffelint.model.log_curves import Series, Signals, fmt, run_prefix, series, signals

ADVICE = ("the net learns the training set by heart: add weight_decay, dropout or data augmentation, "
          "or keep the snapshot from the best test pass")


def check_log(log: TrainingLog, ctx: RuleContext) -> Iterator[Finding]:
    for run in log.runs:
        sig = signals(run)
        end = _judged_until(sig, ctx.options)
        for net in sorted(run.tests):
            rises = [f for f in (_loss_rises(sig, net, test, end, ctx.options) for test in _test_losses(sig, net, end, ctx.options))
                     if f is not None]
            found = min(rises) if rises else _accuracy_falls(sig, net, end, ctx.options)
            if found is not None:
                line, message = found
                yield ctx.finding(log.span(line),
                                  f"{run_prefix(log.runs, run)}{message}{_gap(sig, net, end)}; {ADVICE}")
                break


def _until(data: Series, end: int) -> Series:
    keep = data.iters <= end
    return Series(data.name, data.iters[keep], data.values[keep], data.lines[keep])


def _judged_until(sig: Signals, options: dict) -> int:
    """The last iteration judged: the training loss's lowest level when the run collapsed after it, else the end.

    A run whose training loss ends far above its lowest level (collapse_factor times) has stopped learning;
    overfitting is judged on the stretch before, where the net still learned.
    """
    import numpy as np

    from caffelint.model.log_smoothing import rolling_median

    data = sig.train
    if len(data) < 10:
        return sig.last_iteration
    level = rolling_median(data.values, 5)
    low = int(level.argmin())
    bottom = float(level[low])
    if bottom > 0 and float(np.median(data.values[-5:])) > options["collapse_factor"] * bottom:
        return data.iter_at(low)
    return sig.last_iteration


def _test_losses(sig: Signals, net: int, end: int, options: dict) -> list[Series]:
    """The test net's total loss (Σ w·v), then each softmax head when it has several (GoogLeNet's three).

    A head counts on its own only when the total rose above its best too (GL ≥ generalization_loss at
    the end): an auxiliary head that overfits while the net's total test loss still improves is left alone.
    """
    total = sig.test_total_loss(net)
    if total is None:
        return []
    total = _until(total, end)
    out = [total]
    heads = [head for head in sig.test_losses(net) if head.softmax]
    if len(heads) > 1 and _rose(sig, total, options["generalization_loss"]):
        out += [_until(series(head.curve, head.name), end) for head in heads]
    return out


def _rose(sig: Signals, test: Series, threshold: float) -> bool:
    judged = test.iters > sig.first_iteration
    if not judged.any():
        return False
    low = float(test.values[judged].min())
    return low > 0 and float(test.values[-1]) / low - 1 >= threshold


def _train_fell(sig: Signals, start: int, end: int, options: dict) -> tuple[float, float] | None:
    """(train loss near `start`, at `end`) when it fell by the required share meanwhile."""
    import numpy as np

    train = _until(sig.train, end)
    if len(train) < 4:
        return None
    before = train.values[train.iters <= start]
    if not len(before):
        return None
    then, now = float(before[-1]), float(np.median(train.values[-5:]))
    return (then, now) if now < then * (1 - options["train_drop"]) else None


def _sustained(values, flags, need: int) -> int | None:
    """Index of the first of the final `need` (or more) consecutive flagged evaluations."""
    n = len(flags)
    if n < need or not all(flags[n - need:]):
        return None
    i = n - need
    while i > 0 and flags[i - 1]:
        i -= 1
    return i


def _loss_rises(sig: Signals, net: int, test: Series, end: int, options: dict) -> tuple[int, str] | None:
    """Prechelt's generalisation loss GL(t) = E(t) / min E − 1 on a test loss, while training improves."""
    if len(test) < options["min_evaluations"] + 1:
        return None
    judged = test.iters > sig.first_iteration  # the untrained net's pass is no "best"
    if not judged.any():
        return None
    best = int(test.values[judged].argmin()) + int(judged.argmax())
    low = float(test.values[best])
    if low <= 0:
        return None
    gl = test.values / low - 1
    threshold = options["generalization_loss"]
    held = _accuracy_held(sig, net, test.iter_at(best), end, options)
    if held:
        threshold = options["generalization_loss_accuracy_held"]
    start = _sustained(gl, [i > best and g >= threshold for i, g in enumerate(gl)], options["min_evaluations"])
    fell = _train_fell(sig, test.iter_at(best), end, options)
    if start is None or fell is None:
        return None
    name = "loss" if test.name == "test loss" else test.name
    return test.line_at(start), (
        f"test net #{net} {name} rose from its best {fmt(low)} (iteration {test.iter_at(best)}) to "
        f"{fmt(float(test.values[-1]))} (iteration {test.iter_at(len(test) - 1)}), generalisation loss "
        f"GL {100 * gl[-1]:.0f} % > {100 * threshold:.0f} %, while the training loss fell "
        f"from {fmt(fell[0])} to {fmt(fell[1])}{_accuracy_note(sig, net, test, best, end, held, options)}")


def _accuracy(sig: Signals, net: int, end: int):
    """(name, series up to `end`) of the test net's primary accuracy."""
    acc = sig.primary_accuracy(TEST, net)
    if acc is None:
        return None
    data = _until(series(acc.curve), end)
    return (acc.name, data) if len(data) else None


def _accuracy_held(sig: Signals, net: int, best: int, end: int, options: dict) -> bool:
    """Test accuracy at the end no worse than at the best-loss pass: predictions grew sure, not wrong."""
    found = _accuracy(sig, net, end)
    if found is None:
        return False
    data = found[1]
    then = data.values[data.iters <= best]
    return len(then) > 0 and data.values[-1] >= then[-1] - options["accuracy_drop"]


def _accuracy_falls(sig: Signals, net: int, end: int, options: dict) -> tuple[int, str] | None:
    """Checklist F.27: the loss falls while accuracy falls too."""
    found = _accuracy(sig, net, end)
    if found is None:
        return None
    name, data = found
    if len(data) < options["min_evaluations"] + 1:
        return None
    best = int(data.values.argmax())
    top = float(data.values[best])
    start = _sustained(data.values, [i > best and top - v >= options["accuracy_drop"]
                                     for i, v in enumerate(data.values)], options["min_evaluations"])
    fell = _train_fell(sig, data.iter_at(best), end, options)
    if start is None or fell is None:
        return None
    return data.line_at(start), (
        f"test net #{net} {name} fell from its best {fmt(top)} (iteration {data.iter_at(best)}) to "
        f"{fmt(float(data.values[-1]))} (iteration {data.iter_at(len(data) - 1)}) while the training loss "
        f"fell from {fmt(fell[0])} to {fmt(fell[1])}")


def _accuracy_note(sig: Signals, net: int, test: Series, best: int, end: int, held: bool,
                   options: dict) -> str:
    found = _accuracy(sig, net, end)
    if found is None:
        return ""
    name, data = found
    then = data.values[data.iters <= test.iter_at(best)]
    if not len(then):
        return ""
    note = f"; test {name} {fmt(float(then[-1]))} then, {fmt(float(data.values[-1]))} at iteration {data.iter_at(len(data) - 1)}"
    if held:
        trend = "still rose" if data.values[-1] - then[-1] >= options["accuracy_drop"] else "held"
        note += (f" (the accuracy {trend} while the loss rose: the predictions grow overconfident, "
                 "wrong answers ever surer, before they grow wrong)")
    return note


def _gap(sig: Signals, net: int, end: int) -> str:
    """AUTOTRAINER's test_not_well gap, when the train net logs the same accuracy."""
    test = _accuracy(sig, net, end)
    train = sig.primary_accuracy(TRAIN)
    if test is None or train is None or not train.curve:
        return ""
    import numpy as np

    values = _until(series(train.curve), end).values
    if not len(values):
        return ""
    mean_train = float(np.mean(values[-10:]))
    gap = mean_train - float(test[1].values[-1])
    return f"; train {train.name} {fmt(mean_train)} vs test {fmt(float(test[1].values[-1]))} (gap {gap:.3f})" if gap > 0 else ""
