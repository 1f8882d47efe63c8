"""SLV002 base-lr-missing (catalogue: rules/SLV002.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.edits import insert_field, set_value
from caffelint.engine import RuleContext
from caffelint.findings import UNSAFE, Finding, Fix
from caffelint.model.solver import SolverView
from caffelint.rules.solver import anchor, conventional, number, value_of


def check_solver(solver: SolverView, ctx: RuleContext) -> Iterator[Finding]:
    bound = solver.bound
    usual = conventional("base_lr", solver.type)
    # base_lr has no default in caffe.proto: unset it is 0, and every update is scaled by it.
    if not bound.has("base_lr"):
        fix = None
        if usual is not None:
            policy = bound.entry("lr_policy")
            edit = insert_field(solver.file.source, solver.file.doc, f"base_lr: {number(usual)}",
                                before=policy.node if policy else None)
            fix = Fix(f"Add base_lr: {number(usual)}", UNSAFE, (edit,))
        yield ctx.finding(anchor(solver), "base_lr is not set: it defaults to 0, so the solver never "
                          "changes the weights", fix=fix)
    elif bound.get("base_lr") == 0:
        fix = None
        if usual is not None:
            fix = Fix(f"Set base_lr: {number(usual)}", UNSAFE,
                      (set_value(solver.file.source, value_of(solver, "base_lr"), number(usual)),))
        yield ctx.finding(value_of(solver, "base_lr"), "base_lr is 0: the solver never changes the weights",
                          fix=fix)
