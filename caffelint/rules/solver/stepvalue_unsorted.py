"""SLV006 stepvalue-unsorted (catalogue: rules/SLV006.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.edits import set_value
from caffelint.engine import RuleContext
from caffelint.findings import UNSAFE, Finding, Fix
from caffelint.model.solver import SolverView


def check_solver(solver: SolverView, ctx: RuleContext) -> Iterator[Finding]:
    entries = solver.bound.entries_of("stepvalue")
    values = [e.value for e in entries]
    if all(a < b for a, b in zip(values, values[1:])):
        return
    # Caffe's multistep compares the iteration with the next stepvalue only, and moves on by one
    # per iteration (SGDSolver::GetLearningRate), so a value after a larger one fires at once.
    drops, last = [], None
    for value in values:
        last = value if last is None else max(value, last + 1)
        drops.append(last)
    bad = next(i for i in range(1, len(values)) if values[i] <= values[i - 1])
    fix = None
    if len(set(values)) == len(values):
        edits = tuple(set_value(solver.file.source, e.item, str(v)) for e, v in zip(entries, sorted(values))
                      if e.value != v)
        fix = Fix("Sort the stepvalues", UNSAFE, edits)
    what = "repeats" if values[bad] == values[bad - 1] else "comes after"
    yield ctx.finding(entries[bad].item, f"stepvalue {values[bad]} {what} {values[bad - 1]}: Caffe takes "
                      "stepvalues in the order written, one per iteration, so the rate drops at iterations "
                      f"{', '.join(map(str, drops))} instead of {', '.join(map(str, sorted(values)))}", fix=fix)
