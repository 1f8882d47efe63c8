"""SLV015 solver-type-conflict (catalogue: rules/SLV015.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.edits import remove_field
from caffelint.engine import RuleContext
from caffelint.findings import SAFE, UNSAFE, Finding, Fix
from caffelint.model.solver import SolverView
from caffelint.rules.solver import facts, value_of


def check_solver(solver: SolverView, ctx: RuleContext) -> Iterator[Finding]:
    bound = solver.bound
    if not (bound.has("solver_type") and bound.has("type")):
        return
    enum, written = bound.get("solver_type"), bound.get("type")
    # UpgradeSolverAsNeeded (BVLC/caffe:src/caffe/util/upgrade_proto.cpp) refuses both fields at once.
    same = facts()["solver_type_enum"].get(enum) == written
    agreement = "which agree" if same else "which disagree"
    fix = Fix("Remove the deprecated solver_type", SAFE if same else UNSAFE,
              (remove_field(solver.file.source, bound.entry("solver_type").node),))
    yield ctx.finding(value_of(solver, "solver_type"), f"solver_type {enum} and type {written!r} are both set "
                      f"({agreement}): Caffe refuses to read the solver (\"old solver_type field (enum) and new "
                      "type field (string) cannot be both specified\")",
                      fix=fix, notes=[(value_of(solver, "type"), f"type {written!r} is set here")])
