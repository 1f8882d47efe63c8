"""SLV022 momentum-not-supported (catalogue: rules/SLV022.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.edits import remove_field
from caffelint.engine import RuleContext
from caffelint.findings import UNSAFE, Finding, Fix
from caffelint.model.solver import SolverView
from caffelint.rules.solver import number, value_of


def check_solver(solver: SolverView, ctx: RuleContext) -> Iterator[Finding]:
    kind = solver.type
    momentum = solver.bound.get("momentum")
    # constructor_sanity_check in BVLC/caffe:include/caffe/sgd_solvers.hpp: CHECK_EQ(0, momentum).
    if kind in ("AdaGrad", "RMSProp") and momentum != 0:
        entry = solver.bound.entry("momentum")
        yield ctx.finding(value_of(solver, "momentum"), f"momentum {number(momentum)} with type {kind!r}: Caffe "
                          f"stops at start (\"Momentum cannot be used with {kind}.\")",
                          fix=Fix("Remove momentum", UNSAFE, (remove_field(solver.file.source, entry.node),)))
