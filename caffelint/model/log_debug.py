"""What `debug_info: true` lines say about each training pass: how far down the
gradient reaches, and which layers put out nothing at all.

With debug_info, Net prints for every training iteration the mean absolute value
of each top blob after Forward (`[Forward] Layer l, top blob b data: v`), of each
bottom and parameter gradient after Backward (`[Backward] Layer l, param blob i
diff: v`), and ends Backward with the net-wide norms (`[Backward] All net params
(data, diff): ...`), BVLC/caffe:src/caffe/net.cpp ForwardDebugInfo and
BackwardDebugInfo.  Backward runs from the top of the net down, so the first
parameter line of a pass belongs to the highest learnable layer and the last to
the lowest.  Test nets print their Forward lines too, inside test passes; those
are not kept here.

Only a few numbers per pass are kept, so that a long log with debug_info costs
memory in proportion to its passes, not to its lines.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field


@dataclass
class GradientFlow:
    """Per training pass: the weight gradient (mean |diff| of param blob 0) of the lowest and of
    the highest learnable layer, and where the lowest one's line is."""

    lowest: str = ""  # the layers of the last pass
    highest: str = ""
    low: array = field(default_factory=lambda: array("d"))
    high: array = field(default_factory=lambda: array("d"))
    lines: array = field(default_factory=lambda: array("q"))  # of each pass's lowest-layer line
    _first: tuple | None = None  # (layer, value, line) of the pass under way: the highest layer
    _last: tuple | None = None  # ... and the lowest so far

    def __len__(self) -> int:
        return len(self.low)

    def param(self, layer: str, value: float, line: int) -> None:
        """A `[Backward] Layer l, param blob 0 diff: v` line."""
        if self._first is None:
            self._first = (layer, value, line)
        self._last = (layer, value, line)

    def end_pass(self) -> None:
        """The `[Backward] All net params` line that closes a pass.  (Its iteration is the display
        line that follows: debug_info is printed on display iterations only, before it.)"""
        first, last = self._first, self._last
        self._first = self._last = None
        if first is None or last is None or first[0] == last[0]:
            return  # fewer than two learnable layers: nothing to compare
        self.highest, self.lowest = first[0], last[0]
        self.high.append(first[1])
        self.low.append(last[1])
        self.lines.append(last[2])


@dataclass(slots=True)
class Output:
    """One top blob of the training net across Forward passes: how many passes, and the zeros
    at the end (mean |x| exactly 0: every value of the batch is 0)."""

    passes: int = 0
    zeros: int = 0  # passes at the end in a row with the blob all zero
    since_line: int = 0  # where that run of zeros began

    def add(self, value: float, line: int) -> None:
        self.passes += 1
        if value != 0.0:
            self.zeros = 0
            return
        if not self.zeros:
            self.since_line = line
        self.zeros += 1


@dataclass
class DebugInfo:
    """The debug_info evidence of one run."""

    gradients: GradientFlow = field(default_factory=GradientFlow)
    outputs: dict[tuple[str, str], Output] = field(default_factory=dict)  # (layer, top blob) -> Output

    def output(self, layer: str, blob: str, value: float, line: int) -> None:
        key = (layer, blob)
        found = self.outputs.get(key)
        if found is None:
            found = self.outputs[key] = Output()
        found.add(value, line)
