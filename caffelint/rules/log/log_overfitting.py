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
        for net in sorted(run.tests):
            found = _loss_rises(sig, net, ctx.options) or _accuracy_falls(sig, net, ctx.options)
            if found is not None:
                line, message = found
                yield ctx.finding(log.span(line), f"{run_prefix(log.runs, run)}{message}{_gap(sig, net)}; {ADVICE}")
                break


def _train_fell(sig: Signals, start: int, options: dict) -> tuple[float, float] | None:
    """(train loss near `start`, at the end) when it fell by the required share meanwhile."""
    import numpy as np

    train = sig.train
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


def _loss_rises(sig: Signals, net: int, options: dict) -> tuple[int, str] | None:
    """Prechelt's generalisation loss GL(t) = E(t) / min E − 1 on the test loss, while training improves."""
    test = sig.test_total_loss(net)
    if test is None or len(test) < options["min_evaluations"] + 1:
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
    if _accuracy_held(sig, net, test.iter_at(best), options):
        threshold = options["generalization_loss_accuracy_held"]
    start = _sustained(gl, [i > best and g >= threshold for i, g in enumerate(gl)], options["min_evaluations"])
    fell = _train_fell(sig, test.iter_at(best), options)
    if start is None or fell is None:
        return None
    return test.line_at(start), (
        f"test net #{net} loss rose from its best {fmt(low)} (iteration {test.iter_at(best)}) to "
        f"{fmt(float(test.values[-1]))} (iteration {test.iter_at(len(test) - 1)}), generalisation loss "
        f"GL {100 * gl[-1]:.0f} % > {100 * threshold:.0f} %, while the training loss fell "
        f"from {fmt(fell[0])} to {fmt(fell[1])}{_accuracy_note(sig, net, test)}")


def _accuracy_held(sig: Signals, net: int, best: int, options: dict) -> bool:
    """Test accuracy at the end no worse than at the best-loss pass: predictions grew sure, not wrong."""
    acc = sig.primary_accuracy(TEST, net)
    if acc is None or not acc.curve:
        return False
    return acc.curve.values[-1] >= acc.curve.values[acc.curve.index_at(best)] - options["accuracy_drop"]


def _accuracy_falls(sig: Signals, net: int, options: dict) -> tuple[int, str] | None:
    """Checklist F.27: the loss falls while accuracy falls too."""
    acc = sig.primary_accuracy(TEST, net)
    if acc is None:
        return None
    data = series(acc.curve)
    if len(data) < options["min_evaluations"] + 1:
        return None
    best = int(data.values.argmax())
    top = float(data.values[best])
    start = _sustained(data.values, [i > best and top - v >= options["accuracy_drop"]
                                     for i, v in enumerate(data.values)], options["min_evaluations"])
    fell = _train_fell(sig, data.iter_at(best), options)
    if start is None or fell is None:
        return None
    return data.line_at(start), (
        f"test net #{net} {acc.name} fell from its best {fmt(top)} (iteration {data.iter_at(best)}) to "
        f"{fmt(float(data.values[-1]))} (iteration {data.iter_at(len(data) - 1)}) while the training loss "
        f"fell from {fmt(fell[0])} to {fmt(fell[1])}")


def _accuracy_note(sig: Signals, net: int, test: Series) -> str:
    acc = sig.primary_accuracy(TEST, net)
    if acc is None or not acc.curve:
        return ""
    best = acc.curve.values[acc.curve.index_at(test.iter_at(int(test.values.argmin())))]
    return f"; test {acc.name} {fmt(best)} then, {fmt(acc.curve.values[-1])} at the end"


def _gap(sig: Signals, net: int) -> str:
    """AUTOTRAINER's test_not_well gap, when the train net logs the same accuracy."""
    test = sig.primary_accuracy(TEST, net)
    train = sig.primary_accuracy(TRAIN)
    if test is None or train is None or not train.curve or not test.curve:
        return ""
    import numpy as np

    mean_train = float(np.mean(train.curve.values[-10:]))
    gap = mean_train - test.curve.values[-1]
    return f"; train {train.name} {fmt(mean_train)} vs test {fmt(test.curve.values[-1])} (gap {gap:.3f})" if gap > 0 else ""
