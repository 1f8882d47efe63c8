"""SLV023 display-missing (catalogue: rules/SLV023.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.edits import set_value
from caffelint.engine import RuleContext
from caffelint.findings import SAFE, Finding, Fix
from caffelint.model.solver import SolverView
from caffelint.rules.solver import anchor, insert_fields, value_of

USUAL_DISPLAY = 100  # examples/mnist/lenet_solver.prototxt


def check_solver(solver: SolverView, ctx: RuleContext) -> Iterator[Finding]:
    bound = solver.bound
    display, max_iter = bound.get("display"), bound.get("max_iter")
    # Solver::Step prints the train loss only when display > 0 and iter % display == 0.
    value = USUAL_DISPLAY if not 0 < max_iter < 10 * USUAL_DISPLAY else max(1, max_iter // 10)
    if not bound.has("display"):
        after = next((n for n in ("max_iter", "base_lr") if bound.has(n)), None)
        yield ctx.finding(anchor(solver), "display is not set (0): the log will show no training loss, "
                          "learning rate or train outputs", fix=Fix(f"Add display: {value}", SAFE,
                                                                  (insert_fields(solver, after, f"display: {value}"),)))
    elif display <= 0:
        where = value_of(solver, "display")
        yield ctx.finding(where, f"display is {display}: the log will show no training loss, learning rate or "
                          "train outputs", fix=Fix(f"Set display: {value}", SAFE,
                                                   (set_value(solver.file.source, where, str(value)),)))
    elif max_iter > 0 and display > max_iter:
        yield ctx.finding(value_of(solver, "display"), f"display {display} is above max_iter {max_iter}: the "
                          "loss is printed only at iteration 0")
