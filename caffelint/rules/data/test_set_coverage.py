"""DAT010 test-set-coverage (catalogue: rules/DAT010.yaml).

Each test pass reads test_iter batches of the TEST net's data layer.  Caffe's
data layers keep their place between passes and wrap at the end, so a pass
that reads fewer records than the test set sees a different part each time,
and one that reads more counts some records twice.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.datasource import DataSource
from caffelint.rules.data import scanned


def check_data(source: DataSource, ctx: RuleContext) -> Iterator[Finding]:
    batch = source.batch_size
    if batch <= 0 or not source.net.solvers:
        return
    scan = scanned(source)
    if scan is None or scan.records == 0:
        return
    total = scan.records
    reported = set()
    for solver, test_iter in _test_iters(source):
        read = test_iter * batch
        if test_iter in reported or abs(read - total) < batch:
            continue  # within one batch of the set: as close as whole batches get
        if abs(read - total) <= ctx.options["tolerance"] * total:
            continue
        reported.add(test_iter)
        head = (f"test_iter {test_iter} ({os.path.basename(solver.file.path)}) x batch_size {batch} = "
                f"{read:,} records per test, but {source.written!r} holds {total:,}")
        once = math.ceil(total / batch)
        if read < total:
            text = (f"{head}: each test reads {read / total:.0%} of it, a different part each time (the data "
                    f"layer keeps its place between tests), so test scores move with the part read")
        else:
            text = (f"{head}: each test reads {read - total:,} records a second time (the data layer wraps "
                    f"around), counting them double in the test scores")
        yield ctx.finding(source.item, f"{text}; test_iter: {once} reads it once")


def _test_iters(source: DataSource):
    """(solver, test_iter) for every test net of every solver that builds this layer."""
    for solver in source.net.solvers:
        iters = solver.bound.all("test_iter")
        for index, (ref, state) in enumerate(solver.test_nets):
            if ref.view is source.net and index < len(iters) and source.layer in source.net.graph(state).layers:
                yield solver, iters[index]
