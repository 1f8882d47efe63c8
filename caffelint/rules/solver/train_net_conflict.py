"""SLV018 train-net-conflict (catalogue: rules/SLV018.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.solver import SolverView
from caffelint.rules.solver import TRAIN_NET_FIELDS


def check_solver(solver: SolverView, ctx: RuleContext) -> Iterator[Finding]:
    written = sorted((e for name in TRAIN_NET_FIELDS for e in solver.bound.entries_of(name)),
                     key=lambda e: e.node.start)
    if len(written) < 2:
        return
    first = written[0]
    # Solver::InitTrainNet: CHECK_LE(num_train_nets, 1); InitTestNets refuses net with net_param.
    for extra in written[1:]:
        yield ctx.finding(extra.node.name, f"{extra.node.key} names a second train net after "
                          f"{first.node.key}: Caffe stops at start (\"SolverParameter must not contain more "
                          f"than one of these fields specifying a train_net: {', '.join(TRAIN_NET_FIELDS)}\")",
                          notes=[(first.node.name, f"the first train net ({first.node.key})")])
