"""Label statistics streamed from a data source in key order, in constant memory.

`LabelStats.add` takes labels in batches (numpy arrays), so memory stays flat
however large the database is: per-label counts, how often adjacent records
change label, and the longest run of one label.  Samples arrive as several
stretches of consecutive records; pairs are only counted inside a stretch.

The shuffle test is a Wald-Wolfowitz runs test for many categories: under a
random order each adjacent pair differs with probability q = 1 - sum(p_k^2)
(p_k the label frequencies), so the number of label changes over P pairs has
mean P*q and variance P*q*(1-q) + 2*T*(sum(p_k^3) - (sum(p_k^2))^2), where T
counts overlapping pairs of pairs (Wald & Wolfowitz, Ann. Math. Statist. 11,
1940; the iid form, exact as the record count grows).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_DISTINCT = 1 << 20  # beyond this many distinct labels we stop counting each (regression targets?)


@dataclass(frozen=True)
class ShuffleTest:
    changes: int  # adjacent pairs with different labels
    pairs: int
    expected: float  # label changes a random order would give
    z: float  # standard score of `changes` under a random order

    @property
    def ratio(self) -> float:
        return self.changes / self.expected if self.expected else 1.0


@dataclass
class Run:
    label: int = 0
    length: int = 0
    start: int = 0  # ordinal of the run's first record among those scanned


class LabelStats:
    """Counts, label changes and runs of a label sequence fed in batches."""

    def __init__(self) -> None:
        self.records = 0
        self.counts: dict[int, int] = {}
        self.overflow = False  # too many distinct labels to count each
        self.low: int | None = None
        self.high: int | None = None
        self.pairs = 0
        self.changes = 0
        self.segments = 0
        self.single_label_segments = 0
        self.longest = Run()
        self._current = Run()
        self._open_uniform: bool | None = True

    def add(self, labels, new_segment: bool = False, segment_starts=None) -> None:
        """Append a batch (a 1-d integer array); `segment_starts` marks indices that begin a stretch."""
        import numpy as np

        values = np.asarray(labels, dtype=np.int64)
        if not len(values):
            return
        starts = np.zeros(len(values), dtype=bool)
        if segment_starts is not None and len(segment_starts):
            starts[np.asarray(segment_starts, dtype=np.int64)] = True
        if new_segment or self.records == 0:
            starts[0] = True
        self._count(values, np)
        # one comparison of neighbours serves the pairs, the runs and the single-label stretches
        change = np.empty(len(values), dtype=bool)
        change[1:] = values[1:] != values[:-1]
        change[0] = values[0] != self._current.label  # the run carried over, when not a start
        inner = change & ~starts  # label changes inside a stretch
        self.pairs += len(values) - int(np.count_nonzero(starts))  # each record but a stretch's first
        self.changes += int(np.count_nonzero(inner))
        self._runs(values, change | starts, np)
        self._uniform_segments(inner, starts, np)
        self.records += len(values)

    @property
    def classes(self) -> int:
        return len(self.counts)

    def missing_between(self) -> list[int]:
        """Labels between the smallest and the largest that never occur."""
        if self.overflow or self.low is None:
            return []
        return [x for x in range(self.low, self.high + 1) if x not in self.counts]

    def shuffle_test(self) -> ShuffleTest | None:
        """The runs test against a random order, or None when it cannot say anything."""
        if self.overflow or self.pairs < 2 or len(self.counts) < 2:
            return None
        total = sum(self.counts.values())
        p2 = sum((c / total) ** 2 for c in self.counts.values())
        p3 = sum((c / total) ** 3 for c in self.counts.values())
        q = 1.0 - p2
        triples = max(0, self.pairs - self.segments)
        expected = self.pairs * q
        variance = self.pairs * q * (1 - q) + 2 * triples * max(0.0, p3 - p2 * p2)
        z = (self.changes - expected) / math.sqrt(variance) if variance > 0 else 0.0
        return ShuffleTest(self.changes, self.pairs, expected, z)

    def chance_of_run(self, length: int) -> float:
        """Expected number of runs at least `length` long of the commonest label in a random order."""
        if not self.counts or self.records == 0:
            return 0.0
        p = max(self.counts.values()) / sum(self.counts.values())
        return self.records * (1 - p) * p ** length if p < 1 else float(self.records)

    def _count(self, values, np) -> None:
        low, high = int(values.min()), int(values.max())
        self.low = low if self.low is None else min(self.low, low)
        self.high = high if self.high is None else max(self.high, high)
        if self.overflow:
            return
        if low >= 0 and high < 1 << 16:
            binned = np.bincount(values)
            labels = np.flatnonzero(binned)
            counts = binned[labels]
        else:
            labels, counts = np.unique(values, return_counts=True)
        for label, count in zip(labels.tolist(), counts.tolist()):
            self.counts[label] = self.counts.get(label, 0) + count
        if len(self.counts) > MAX_DISTINCT:
            self.overflow = True
            self.counts = {}

    def _runs(self, values, begins, np) -> None:
        """The longest run of one label; `begins` marks the records that start a run."""
        n = len(values)
        begin = begins.nonzero()[0]
        head = int(begin[0]) if len(begin) else n  # records that extend the run carried over
        if head:
            self._current.length += head
            self._keep_longest(self._current)
        if len(begin):
            ends = np.empty_like(begin)
            ends[:-1] = begin[1:]
            ends[-1] = n
            lengths = ends - begin
            top = int(lengths.argmax())
            self._keep_longest(Run(int(values[begin[top]]), int(lengths[top]), self.records + int(begin[top])))
            self._current = Run(int(values[begin[-1]]), int(lengths[-1]), self.records + int(begin[-1]))

    def _uniform_segments(self, inner_change, starts, np) -> None:
        """Count closed stretches that hold a single label (the evidence a sample gives)."""
        opened = int(np.count_nonzero(starts))
        self.segments += opened
        if not opened:
            self._open_uniform = self._open_uniform and not inner_change.any()
            return
        segment = np.cumsum(starts)  # 0: the stretch carried over; 1..opened: new ones
        changed = np.bincount(segment[inner_change], minlength=opened + 1) > 0
        if self.records:  # the stretch open before this batch closes at the first start
            self.single_label_segments += int(self._open_uniform and not changed[0])
        self.single_label_segments += int(opened - 1 - np.count_nonzero(changed[1:opened]))
        self._open_uniform = not changed[opened]

    def _keep_longest(self, run: Run) -> None:
        if run.length > self.longest.length:
            self.longest = Run(run.label, run.length, run.start)

    def finish(self) -> None:
        """Close the last stretch (call once, after the last batch)."""
        if self.records and self._open_uniform is not None:
            self.single_label_segments += int(self._open_uniform)
            self._open_uniform = None
