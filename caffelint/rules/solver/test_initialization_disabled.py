"""SLV009 test-initialization-disabled (catalogue: rules/SLV009.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.solver import SolverView
from caffelint.rules.solver import value_of


def check_solver(solver: SolverView, ctx: RuleContext) -> Iterator[Finding]:
    bound = solver.bound
    if bound.get("test_initialization") or not bound.has("test_iter"):
        return
    yield ctx.finding(value_of(solver, "test_initialization"), "test_initialization is false: no test runs at "
                      "iteration 0, so the log lacks the starting loss and accuracy that reveal a bad "
                      "initialisation (expect about ln(classes) and chance accuracy)")
