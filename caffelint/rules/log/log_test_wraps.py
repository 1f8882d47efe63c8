"""LOG014 log-test-wraps (catalogue: rules/LOG014.yaml)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.log import Run, TrainingLog
from caffelint.model.log_curves import run_prefix


def check_log(log: TrainingLog, ctx: RuleContext) -> Iterator[Finding]:
    for run in log.runs:
        threads = test_threads(run, ctx.options["test_share"])
        for net in sorted({p.net for p in run.test_passes}):
            passes = [p for p in run.test_passes if p.net == net]
            # each test net has its own reader thread: count the restarts of one thread in one pass
            counts = [max((n for t, n in p.restarts.items() if t in threads), default=0) for p in passes]
            if not counts or max(counts) < 2:
                continue  # prefetching runs one batch ahead: one restart per pass is an exact fit
            worst = max(range(len(passes)), key=lambda i: counts[i])
            ratio = sum(counts) / len(passes)
            yield ctx.finding(log.span(passes[worst].line), (
                f"{run_prefix(log.runs, run)}`Restarting data prefetching` appears {counts[worst]} times inside "
                f"the iteration-{passes[worst].iteration} pass of test net #{net} ({ratio:.2f} per pass over "
                f"{len(passes)} passes): each pass reads the test set about {max(ratio, 1.0):.1f} times, so some "
                f"images count twice{_advice(run, net, ratio)}"))


def test_threads(run: Run, share: float) -> set[str]:
    """Data threads that restart (almost) only during test passes: the test nets' readers."""
    inside = Counter(e.thread for e in run.restarts if e.in_test >= 0)
    total = Counter(e.thread for e in run.restarts)
    return {t for t, n in inside.items() if n >= share * total[t]}


def _advice(run: Run, net: int, ratio: float) -> str:
    iters = run.params("test_iter")
    setup = run.test_net(net)
    batch = setup.batch_size if setup else None
    if net >= len(iters) or not batch or ratio <= 1:
        return ": lower test_iter so that test_iter × batch_size covers the test set once"
    test_iter = int(float(iters[net]))
    size = test_iter * batch / ratio
    return (f": test_iter {test_iter} × batch_size {batch} = {test_iter * batch} images for a test set of "
            f"about {size:.0f}; test_iter {math.ceil(size / batch)} covers it once")
