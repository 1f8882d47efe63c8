"""SLV026 snapshot-prefix-missing (catalogue: rules/SLV026.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.solver import SolverView
from caffelint.rules.solver import value_of


def check_solver(solver: SolverView, ctx: RuleContext) -> Iterator[Finding]:
    bound = solver.bound
    if bound.get("snapshot") <= 0 or bound.has("snapshot_prefix"):
        return
    # Solver::CheckSnapshotWritePermissions; UpgradeSnapshotPrefixProperty (BVLC/caffe 6fa4c62, 2018)
    # fills in the solver's own path for builds that have it.
    yield ctx.finding(value_of(solver, "snapshot"), f"snapshot {bound.get('snapshot')} is set without "
                      "snapshot_prefix: Caffe builds from before 2018 (and most forks) stop at start (\"In solver "
                      "params, snapshot is specified but snapshot_prefix is not\"); newer ones write beside the "
                      "solver file")
