"""SLV020 iter-size-out-of-range (catalogue: rules/SLV020.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.edits import set_value
from caffelint.engine import RuleContext
from caffelint.findings import UNSAFE, Finding, Fix
from caffelint.model.solver import SolverView
from caffelint.rules.solver import value_of


def check_solver(solver: SolverView, ctx: RuleContext) -> Iterator[Finding]:
    value = solver.bound.get("iter_size")
    # Solver::Step runs ForwardBackward iter_size times and divides the loss by iter_size;
    # SGDSolver::Normalize scales the gradients by 1 / iter_size. Caffe checks neither.
    if value < 1:
        where = value_of(solver, "iter_size")
        result = ("dividing by 0 makes the loss and the weights NaN at the first update" if value == 0
                  else "the weights only shrink under weight decay")
        yield ctx.finding(where, f"iter_size {value} is below 1: Caffe runs no forward or backward pass, so "
                          f"nothing is learnt from the data; {result}",
                          fix=Fix("Set iter_size: 1", UNSAFE, (set_value(solver.file.source, where, "1"),)))
