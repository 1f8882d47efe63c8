"""SLV025 unknown-regularization-type (catalogue: rules/SLV025.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.edits import set_string
from caffelint.engine import RuleContext
from caffelint.findings import SAFE, Finding, Fix
from caffelint.model.solver import SolverView
from caffelint.rules.solver import number, value_of

KNOWN = ("L1", "L2")  # SGDSolver::Regularize (BVLC/caffe:src/caffe/solvers/sgd_solver.cpp)


def check_solver(solver: SolverView, ctx: RuleContext) -> Iterator[Finding]:
    bound = solver.bound
    written = bound.get("regularization_type")
    # Regularize reads the type only when the decay is non-zero, at the first update.
    if not bound.has("regularization_type") or written in KNOWN or bound.get("weight_decay") == 0:
        return
    where = value_of(solver, "regularization_type")
    fix = None
    if written.upper() in KNOWN:
        fix = Fix(f"Set regularization_type: {written.upper()!r}", SAFE,
                  (set_string(solver.file.source, where, written.upper()),))
    yield ctx.finding(where, f"regularization_type {written!r} is neither \"L1\" nor \"L2\": with weight_decay "
                      f"{number(bound.get('weight_decay'))} Caffe stops at the first update (\"Unknown "
                      f"regularization type: {written}\")", fix=fix)
