"""A Caffe training log as data: runs, their curves, their nets and their events.

`read_log(path)` streams the file once and keeps numbers, not text: each curve
is a few typed arrays (iteration, value, line, seconds), so a 1 GB log costs
memory in proportion to its displayed points, not to its size.  nan, -nan,
inf and -inf are kept as values: they are the most important thing a log can
say.  The line grammar lives in log_lines.py, the reading in log_reader.py.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field

from caffelint.findings import Pos, Span
from caffelint.model.log_debug import DebugInfo
from caffelint.model.log_net import NetSetup

TRAIN, TEST = "train", "test"


class Curve:
    """One logged series: a value per iteration, with the log line and time of each point."""

    __slots__ = ("name", "weight", "iters", "values", "lines", "secs")

    def __init__(self, name: str, weight: float | None = None) -> None:
        self.name = name
        self.weight = weight  # the loss weight w of `(* w = ... loss)`, None for non-loss outputs
        self.iters = array("q")
        self.values = array("d")
        self.lines = array("q")
        self.secs = array("d")

    def add(self, iteration: int, value: float, line: int, secs: float) -> None:
        self.iters.append(iteration)
        self.values.append(value)
        self.lines.append(line)
        self.secs.append(secs)

    def __len__(self) -> int:
        return len(self.values)

    def __bool__(self) -> bool:
        return len(self.values) > 0

    @property
    def is_loss(self) -> bool:
        return self.weight is not None

    def first_nonfinite(self) -> int | None:
        """Index of the first nan or inf point."""
        for i, value in enumerate(self.values):
            if math.isnan(value) or math.isinf(value):
                return i
        return None

    def index_at(self, iteration: int) -> int:
        """Index of the last point at or before `iteration` (0 if none is)."""
        import bisect

        return max(0, bisect.bisect_right(self.iters, iteration) - 1)

    def __repr__(self) -> str:
        return f"<Curve {self.name} {len(self)} points>"


@dataclass(slots=True)
class TestPass:
    """One `Iteration N, Testing net (#i)` block."""

    net: int
    iteration: int
    line: int
    end_line: int = 0
    restarts: dict[str, int] = field(default_factory=dict)  # data thread -> restarts inside the pass


@dataclass(slots=True)
class Event:
    """A notable line: a fatal check, a data restart, a snapshot resume."""

    line: int
    iteration: int
    text: str = ""
    thread: str = ""
    in_test: int = -1  # index into Run.test_passes when it happened during a test pass


@dataclass(eq=False)
class Run:
    """One `caffe train` invocation (a solver set up, then Solving), or a restart inside one."""

    index: int
    line: int
    solver: dict[str, list[str]] = field(default_factory=dict)
    solver_line: int = 0
    net_name: str = ""
    lr_policy: str = ""
    solving_line: int = 0
    resumed_from: str = ""
    end: str = "truncated"  # done | stopped | fatal | signal | truncated
    end_line: int = 0
    train_loss: Curve = field(default_factory=lambda: Curve("loss"))
    train: dict[str, Curve] = field(default_factory=dict)
    lr: Curve = field(default_factory=lambda: Curve("lr"))
    tests: dict[int, dict[str, Curve]] = field(default_factory=dict)
    test_passes: list[TestPass] = field(default_factory=list)
    restarts: list[Event] = field(default_factory=list)
    clipping: Curve = field(default_factory=lambda: Curve("clipped L2 norm"))
    clip_threshold: float | None = None
    debug_norms: dict[str, Curve] = field(default_factory=dict)
    debug_lines: int = 0
    debug_nonfinite: Event | None = None
    debug: DebugInfo = field(default_factory=DebugInfo)  # gradient flow and all-zero outputs
    fatal: list[Event] = field(default_factory=list)
    multistep: list[Event] = field(default_factory=list)
    nets: dict[tuple[str, int], NetSetup] = field(default_factory=dict)
    last_iteration: int = -1

    # -- solver parameters echoed at start-up (`Initializing solver from parameters:`)
    def param(self, name: str) -> str | None:
        values = self.solver.get(name)
        return values[-1] if values else None

    def params(self, name: str) -> list[str]:
        return self.solver.get(name, [])

    def number(self, name: str) -> float | None:
        text = self.param(name)
        try:
            return float(text) if text is not None else None
        except ValueError:
            return None

    @property
    def policy(self) -> str:
        return self.lr_policy or (self.param("lr_policy") or "")

    # -- nets built by the run
    @property
    def train_net(self) -> NetSetup | None:
        return self.nets.get((TRAIN, 0))

    def test_net(self, index: int) -> NetSetup | None:
        return self.nets.get((TEST, index))

    def test_curve(self, name: str, net: int = 0) -> Curve | None:
        return self.tests.get(net, {}).get(name)

    @property
    def has_data(self) -> bool:
        return bool(self.train_loss) or bool(self.test_passes) or bool(self.train)

    @property
    def first_iteration(self) -> int:
        candidates = [c.iters[0] for c in (self.train_loss, self.lr) if c]
        candidates += [p.iteration for p in self.test_passes[:1]]
        return min(candidates) if candidates else 0

    def display_after(self, line: int) -> int | None:
        """The iteration of the first displayed training loss at or after `line`: the iteration of
        the debug_info lines printed before it."""
        import bisect

        at = bisect.bisect_left(self.train_loss.lines, line)
        return self.train_loss.iters[at] if at < len(self.train_loss) else None

    def curves(self) -> Iterator[tuple[str, Curve]]:
        """Every curve with a label: train loss, train outputs, lr, test outputs."""
        yield "train", self.train_loss
        for curve in self.train.values():
            yield "train", curve
        yield "lr", self.lr
        for net, outputs in sorted(self.tests.items()):
            for curve in outputs.values():
                yield f"test#{net}", curve


@dataclass
class TrainingLog:
    """Everything read from one log file."""

    path: str
    runs: list[Run]
    line_count: int = 0
    start_secs: float | None = None  # the first `Solving` line: Seconds 0 in parse_log.py's tables
    year_known: bool = False

    def span(self, line: int) -> Span:
        """A finding's place: the start of a kept line (the text itself is not kept)."""
        line = max(1, line)
        return Span(self.path, Pos(line, 1), Pos(line, 1))

    @property
    def solved_runs(self) -> list[Run]:
        """Runs that trained or tested at least once."""
        return [run for run in self.runs if run.has_data]


def read_log(path: str) -> TrainingLog:
    """Read a Caffe training log (streaming, constant memory per point)."""
    from caffelint.model.log_reader import LogReader

    return LogReader(path).read()
