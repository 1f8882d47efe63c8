"""SLV021 rms-decay-out-of-range (catalogue: rules/SLV021.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.edits import set_value
from caffelint.engine import RuleContext
from caffelint.findings import UNSAFE, Finding, Fix
from caffelint.model.solver import SolverView
from caffelint.rules.solver import number, value_of


def check_solver(solver: SolverView, ctx: RuleContext) -> Iterator[Finding]:
    decay = solver.bound.get("rms_decay")
    # RMSPropSolver's constructor_sanity_check: CHECK_GE(rms_decay, 0) and CHECK_LT(rms_decay, 1).
    if solver.type == "RMSProp" and not 0 <= decay < 1:
        where = value_of(solver, "rms_decay")
        yield ctx.finding(where, f"rms_decay {number(decay)} is outside [0, 1): Caffe stops at start "
                          "(\"rms_decay should lie between 0 and 1.\")",
                          fix=Fix("Set rms_decay: 0.99 (Caffe's default)", UNSAFE,
                                  (set_value(solver.file.source, where, "0.99"),)))
