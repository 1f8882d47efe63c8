"""SLV017 train-net-missing (catalogue: rules/SLV017.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.solver import SolverView
from caffelint.rules.solver import TRAIN_NET_FIELDS, anchor


def check_solver(solver: SolverView, ctx: RuleContext) -> Iterator[Finding]:
    if not any(solver.bound.has(name) for name in TRAIN_NET_FIELDS):
        # Solver::InitTrainNet: CHECK_GE(num_train_nets, 1).
        yield ctx.finding(anchor(solver), "the solver names no train net: Caffe stops at start (\"SolverParameter "
                          f"must specify a train net using one of these fields: {', '.join(TRAIN_NET_FIELDS)}\")")
