"""The solver's `solver_type` enum -> the `type` string (UpgradeSolverType)."""

from __future__ import annotations

from dataclasses import dataclass

from caffelint import edits as ed
from caffelint.findings import Edit
from caffelint.schema.bound import Bound
from caffelint.source import SourceFile
from caffelint.upgrade.tables import SOLVER_TYPES


@dataclass
class SolverTypeUpgrade:
    message: str
    edits: list[Edit]


def upgrade_solver_type(source: SourceFile, solver: Bound) -> SolverTypeUpgrade | None:
    """solver_type alone: the edit to `type`.  With `type` set too, Caffe refuses the solver; that
    conflict is solver-type-conflict's (SLV015) to report."""
    entry = solver.entry("solver_type")
    if entry is None or solver.has("type"):
        return None
    new = SOLVER_TYPES[entry.value]
    value = ed.quote(new, ed.quote_of(solver))
    return SolverTypeUpgrade(
        f"solver_type: {entry.value} is deprecated; Caffe reads it as type: {new!r}",
        [ed.replace_keeping_comment_column(source, entry.node.start, entry.item.end, f"type: {value}")])
