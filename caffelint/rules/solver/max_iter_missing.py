"""SLV024 max-iter-missing (catalogue: rules/SLV024.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.solver import SolverView
from caffelint.rules.solver import anchor, value_of


def check_solver(solver: SolverView, ctx: RuleContext) -> Iterator[Finding]:
    bound = solver.bound
    if bound.get("max_iter") > 0 or bound.get("lr_policy") == "poly":
        return  # poly divides by max_iter: lr-policy-missing-param says more
    # Solver::Solve runs Step(max_iter - iter): with max_iter 0 there is nothing to run.
    where = value_of(solver, "max_iter") if bound.has("max_iter") else anchor(solver)
    yield ctx.finding(where, f"max_iter is {bound.get('max_iter')}" + ("" if bound.has("max_iter") else " (unset)")
                      + ": `caffe train` stops before the first iteration; only a script calling "
                      "solver.step() trains with this solver")
