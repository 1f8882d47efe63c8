"""SLV016 average-loss-out-of-range (catalogue: rules/SLV016.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.edits import set_value
from caffelint.engine import RuleContext
from caffelint.findings import SAFE, Finding, Fix
from caffelint.model.solver import SolverView
from caffelint.rules.solver import value_of


def check_solver(solver: SolverView, ctx: RuleContext) -> Iterator[Finding]:
    value = solver.bound.get("average_loss")
    # Solver::Init: CHECK_GE(average_loss, 1) << "average_loss should be non-negative."
    if value < 1:
        where = value_of(solver, "average_loss")
        # 1 averages over one iteration, i.e. no smoothing; it only changes the loss shown in the log.
        yield ctx.finding(where, f"average_loss {value} is below 1: Caffe stops at start (\"average_loss "
                          "should be non-negative.\")",
                          fix=Fix("Set average_loss: 1 (no smoothing)", SAFE,
                                  (set_value(solver.file.source, where, "1"),)))
