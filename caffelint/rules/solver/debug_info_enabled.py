"""SLV010 debug-info-enabled (catalogue: rules/SLV010.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.edits import set_value
from caffelint.engine import RuleContext
from caffelint.findings import UNSAFE, Finding, Fix
from caffelint.model.solver import SolverView
from caffelint.rules.solver import value_of


def check_solver(solver: SolverView, ctx: RuleContext) -> Iterator[Finding]:
    if not solver.bound.get("debug_info"):
        return
    where = value_of(solver, "debug_info")
    # Net::ForwardDebugInfo/BackwardDebugInfo/UpdateDebugInfo compute and log the mean |data| and
    # |diff| of every blob and parameter at each display iteration, and every test net logs them too.
    yield ctx.finding(where, "debug_info is true: every display iteration and every test pass logs each "
                      "layer's data and gradients, which slows training and floods the log; keep it for "
                      "short diagnostic runs", fix=Fix("Set debug_info: false", UNSAFE,
                                                     (set_value(solver.file.source, where, "false"),)))
