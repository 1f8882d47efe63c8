"""SLV011 weight-decay-missing (catalogue: rules/SLV011.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import UNSAFE, Finding, Fix
from caffelint.model.solver import SolverView
from caffelint.rules.solver import anchor, conventional, insert_fields, number


def check_solver(solver: SolverView, ctx: RuleContext) -> Iterator[Finding]:
    bound = solver.bound
    if bound.has("weight_decay"):
        return  # a written 0 is a choice
    value = number(conventional("weight_decay"))
    after = next((name for name in ("momentum", "base_lr") if bound.has(name)), None)
    yield ctx.finding(anchor(solver), "weight_decay is not set: it defaults to 0, so the weights are not "
                      f"regularised (BVLC's reference solvers use {value})",
                      fix=Fix(f"Add weight_decay: {value}", UNSAFE,
                              (insert_fields(solver, after, f"weight_decay: {value}"),)))
