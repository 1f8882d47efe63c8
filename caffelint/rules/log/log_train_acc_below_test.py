"""LOG010 log-train-acc-below-test (catalogue: rules/LOG010.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.log import TEST, TRAIN, TrainingLog
from caffelint.model.log_curves import fmt, run_prefix, series, signals


def check_log(log: TrainingLog, ctx: RuleContext) -> Iterator[Finding]:
    import numpy as np

    opts = ctx.options
    for run in log.runs:
        sig = signals(run)
        test = sig.primary_accuracy(TEST)
        if test is None:
            continue
        train = next((a for a in sig.accuracies(TRAIN) if a.name == test.name), None) or sig.primary_accuracy(TRAIN)
        if train is None or not train.curve:
            continue
        tests = series(test.curve).after(sig.warmed_up(opts["judge_after"]))
        trains = series(train.curve)
        below, total, example = 0, 0, None
        previous = sig.first_iteration
        for i in range(len(tests)):
            iteration = tests.iter_at(i)
            window = trains.values[(trains.iters > previous) & (trains.iters <= iteration)]
            previous = iteration
            chance = test.chance_accuracy or 0.0
            if not len(window) or tests.values[i] < 2 * chance:
                continue
            total += 1
            mean = float(np.mean(window))
            if tests.values[i] - mean >= opts["margin"]:
                below += 1
                example = example or (tests.line_at(i), iteration, mean, float(tests.values[i]))
        if total >= opts["min_evaluations"] and below >= opts["share"] * total and example:
            line, iteration, mean, value = example
            yield ctx.finding(log.span(line), (
                f"{run_prefix(log.runs, run)}train {train.name} is below test {test.name} on {below} of {total} "
                f"test passes (first at iteration {iteration}: train {mean:.3f}, the mean of the displays since "
                f"the previous test, vs test {fmt(value)}); dropout and augmentation lower train accuracy a "
                f"little, but a steady gap means the training data is harder or labelled differently than "
                f"the test data, or test images leak into training"))
