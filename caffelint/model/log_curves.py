"""Queries over a run's curves that several log rules share.

`signals(run)` answers, once per run: which series is the training loss
(Caffe's displayed, smoothed loss, or the sum of the per-iteration outputs
when the display is broken), how many classes each loss scores and its
chance level, which test outputs are losses and accuracies, and where the
learning rate held still.  numpy is imported here, not at module import.
"""

from __future__ import annotations

import math
import re
import weakref
from dataclasses import dataclass, field
from functools import cached_property

from caffelint.model.log import TEST, TRAIN, Curve, Run
from caffelint.model.log_net import NetSetup

_ACCURACY_NAME = re.compile(r"acc|top[-_]?\d", re.IGNORECASE)


@dataclass
class Series:
    """Finite points of one curve (or of a sum of curves) as numpy arrays."""

    name: str
    iters: object  # numpy int64 array
    values: object  # numpy float64 array
    lines: object  # numpy int64 array

    def __len__(self) -> int:
        return len(self.values)

    def line_at(self, index: int) -> int:
        return int(self.lines[index])

    def iter_at(self, index: int) -> int:
        return int(self.iters[index])

    def after(self, iteration: float) -> Series:
        keep = self.iters >= iteration
        return Series(self.name, self.iters[keep], self.values[keep], self.lines[keep])


def series(curve: Curve, name: str | None = None) -> Series:
    """The finite points of `curve`."""
    import numpy as np

    values = np.frombuffer(curve.values, dtype=np.float64) if curve else np.zeros(0)
    iters = np.frombuffer(curve.iters, dtype=np.int64) if curve else np.zeros(0, dtype=np.int64)
    lines = np.frombuffer(curve.lines, dtype=np.int64) if curve else np.zeros(0, dtype=np.int64)
    keep = np.isfinite(values)
    return Series(name or curve.name, iters[keep], values[keep], lines[keep])


@dataclass
class Output:
    """A loss or accuracy output of a net, with what the log says about it."""

    name: str
    curve: Curve
    weight: float | None = None
    classes: int | None = None
    top_k: int = 1
    softmax: bool = False

    @property
    def chance_loss(self) -> float | None:
        """ln(C): the softmax cross-entropy of uniform predictions over C classes."""
        return math.log(self.classes) if self.softmax and self.classes else None

    @property
    def chance_accuracy(self) -> float | None:
        """k/C: the top-k accuracy of a guess."""
        return min(1.0, self.top_k / self.classes) if self.classes else None


@dataclass
class Signals:
    run: Run
    _cache: dict = field(default_factory=dict)

    # -- training loss
    @cached_property
    def displayed(self) -> Series:
        return series(self.run.train_loss, "loss")

    @cached_property
    def output_sum(self) -> Series | None:
        """Σ w·v over the train loss outputs at each display: the unsmoothed loss of that iteration."""
        losses = [c for c in self.run.train.values() if c.is_loss]
        if not losses or any(len(c) != len(losses[0]) for c in losses):
            return None
        import numpy as np

        total = np.zeros(len(losses[0]))
        for curve in losses:
            total += np.frombuffer(curve.values, dtype=np.float64) * curve.weight
        first = losses[0]
        iters = np.frombuffer(first.iters, dtype=np.int64)
        lines = np.frombuffer(first.lines, dtype=np.int64)
        keep = np.isfinite(total)
        return Series("sum of train loss outputs", iters[keep], total[keep], lines[keep])

    @cached_property
    def display_broken(self) -> bool:
        """The displayed loss has left the outputs it averages (Caffe's running sum lost precision).

        solver.cpp UpdateSmoothedLoss keeps `smoothed_loss_ += (loss - losses_[idx]) / average_loss`
        in float: after a huge spike the sum can stay wrong, even negative, for the rest of the run.
        """
        raw = self.output_sum
        shown = self.displayed
        if raw is None or len(raw) < 10 or len(shown) < 10:
            return False
        import numpy as np

        if (shown.values < 0).any() and (raw.values >= 0).all():
            return True
        half = len(shown) // 2
        level = float(np.median(raw.values[len(raw) // 2:]))
        return level > 0 and float(np.median(shown.values[half:])) > 10 * level

    @cached_property
    def train(self) -> Series:
        """The training loss a diagnosis should read."""
        if self.display_broken or not len(self.displayed):
            return self.output_sum if self.output_sum is not None else self.displayed
        return self.displayed

    @cached_property
    def train_unsmoothed(self) -> Series | None:
        """Per-iteration training loss: the outputs, or the display when it averages nothing."""
        if self.output_sum is not None and len(self.output_sum):
            return self.output_sum
        average = self.run.number("average_loss") or 1
        return self.displayed if average <= 1 else None

    # -- nets and outputs
    def _net(self, role: str, index: int = 0) -> NetSetup | None:
        return self.run.nets.get((role, index)) or self.run.nets.get((TRAIN if role == TEST else TEST, 0))

    def _describe(self, name: str, curve: Curve, role: str, index: int) -> Output:
        out = Output(name, curve, curve.weight)
        for net in (self.run.nets.get((role, index)), self._net(role, index)):
            if net is None or net.producer(name) is None:
                continue
            out.classes = net.classes(name)
            out.top_k = net.top_k(name)
            out.softmax = bool(curve.is_loss and net.is_softmax_loss(name))
            break
        return out

    @cached_property
    def train_losses(self) -> list[Output]:
        """The train net's losses: from `Train net output` lines, else from the net's set-up."""
        found = [self._describe(n, c, TRAIN, 0) for n, c in self.run.train.items() if c.is_loss]
        net = self.run.train_net
        if found or net is None:
            return found
        for layer in net.layers.values():
            for top, weight in layer.loss_weights.items():
                found.append(self._describe(top, Curve(top, weight), TRAIN, 0))
        return found

    @cached_property
    def chance_train_loss(self) -> float | None:
        """Σ w·ln(C) over the train losses, when every one is a softmax loss with known C."""
        heads = self.train_losses
        if not heads or not all(h.chance_loss for h in heads):
            return None
        return sum(h.weight * h.chance_loss for h in heads)

    def test_losses(self, net: int = 0) -> list[Output]:
        curves = self.run.tests.get(net, {})
        return [self._describe(n, c, TEST, net) for n, c in curves.items() if c.is_loss]

    def accuracies(self, phase: str, net: int = 0) -> list[Output]:
        curves = self.run.train if phase == TRAIN else self.run.tests.get(net, {})
        setup = self._net(phase, net)
        out = []
        for name, curve in curves.items():
            if curve.is_loss:
                continue
            known = setup.is_accuracy(name) if setup is not None else None
            if known is None:
                known = bool(_ACCURACY_NAME.search(name)) and _within_unit(curve)
            if known:
                out.append(self._describe(name, curve, phase, net))
        return out

    def primary_accuracy(self, phase: str = TEST, net: int = 0) -> Output | None:
        """The top-1 accuracy of the best head (GoogLeNet logs three), else any accuracy."""
        found = self.accuracies(phase, net)
        top1 = [a for a in found if a.top_k == 1] or found
        if not top1:
            return None
        return max(top1, key=lambda a: _last_finite(a.curve))

    def test_total_loss(self, net: int = 0) -> Series | None:
        """Σ w·v over the test loss outputs, per test pass."""
        losses = self.test_losses(net)
        if not losses or any(len(o.curve) != len(losses[0].curve) for o in losses):
            return None
        import numpy as np

        total = np.zeros(len(losses[0].curve))
        for out in losses:
            total += np.frombuffer(out.curve.values, dtype=np.float64) * out.weight
        first = losses[0].curve
        iters = np.frombuffer(first.iters, dtype=np.int64)
        lines = np.frombuffer(first.lines, dtype=np.int64)
        keep = np.isfinite(total)
        return Series("test loss", iters[keep], total[keep], lines[keep])

    # -- learning rate
    @cached_property
    def lr_segments(self) -> list[tuple[int, int, float]]:
        """(first iteration, last iteration, lr) of stretches where the logged lr held (within 1 %)."""
        lr = series(self.run.lr)
        out: list[tuple[int, int, float]] = []
        for iteration, value in zip(lr.iters.tolist(), lr.values.tolist()):
            if out and abs(value - out[-1][2]) <= 0.01 * abs(out[-1][2]):
                out[-1] = (out[-1][0], iteration, out[-1][2])
            else:
                out.append((iteration, iteration, value))
        return out

    def lr_at(self, iteration: int) -> float | None:
        curve = self.run.lr
        if not curve:
            return None
        return curve.values[curve.index_at(iteration)]

    # -- the span of the run
    @property
    def first_iteration(self) -> int:
        return self.run.first_iteration

    @property
    def last_iteration(self) -> int:
        return max(self.run.last_iteration, self.first_iteration)

    def warmed_up(self, fraction: float) -> float:
        """The iteration after the first `fraction` of the run's iterations."""
        return self.first_iteration + fraction * (self.last_iteration - self.first_iteration)


def _within_unit(curve: Curve) -> bool:
    return all(0.0 <= v <= 1.0 for v in curve.values if v == v)


def _last_finite(curve: Curve) -> float:
    for value in reversed(curve.values):
        if math.isfinite(value):
            return value
    return -1.0


_SIGNALS: weakref.WeakKeyDictionary[Run, Signals] = weakref.WeakKeyDictionary()


def signals(run: Run) -> Signals:
    """The shared analysis of `run`, computed once whichever rule asks first."""
    found = _SIGNALS.get(run)
    if found is None:
        found = _SIGNALS[run] = Signals(run)
    return found


def fmt(value: float) -> str:
    """A logged number as Caffe prints it: six significant digits at most, nan and inf kept."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.6g}"


def run_prefix(runs: list[Run], run: Run) -> str:
    """`run 2 of 3: ` when the log holds several runs, else nothing."""
    solved = [r for r in runs if r.has_data or r.fatal]
    if len(solved) <= 1:
        return ""
    return f"run {solved.index(run) + 1} of {len(solved)}: " if run in solved else ""


def chance_formula(heads: list[Output]) -> str:
    """`ln(10) = 2.30259` or `0.3·ln(196) + 1·ln(196) = 6.86` for weighted heads."""
    total = sum(h.weight * h.chance_loss for h in heads)
    if len(heads) == 1 and heads[0].weight == 1:
        return f"ln({heads[0].classes}) = {fmt(total)}"
    terms = " + ".join(f"{fmt(h.weight)}·ln({h.classes})" for h in heads)
    return f"{terms} = {fmt(total)}"


STEPPED_POLICIES = ("fixed", "step", "multistep")  # piecewise-constant lr (sgd_solver.cpp GetLearningRate)


def segments(sig: Signals) -> list[tuple[int, int, float | None]]:
    """Stretches of constant lr; the whole run when no lr was logged."""
    return sig.lr_segments or [(sig.first_iteration, sig.last_iteration, None)]


def segment_points(data: Series, start: int, end: int, next_start: int | None) -> Series:
    """The points of `data` from `start` up to (not including) the next segment."""
    keep = (data.iters >= start) & ((data.iters < next_start) if next_start is not None else (data.iters >= start))
    return Series(data.name, data.iters[keep], data.values[keep], data.lines[keep])


def static_rule(name: str) -> str:
    """`NET001 undefined-bottom` for a catalogue rule name; the bare name when it is not there."""
    from caffelint import catalogue

    spec = catalogue.load().get(name)
    return f"{spec.code} {spec.name}" if spec is not None else name
