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
    edits: list[Edit]  # empty when there is no automatic fix


def upgrade_solver_type(source: SourceFile, solver: Bound) -> SolverTypeUpgrade | None:
    entry = solver.entry("solver_type")
    if entry is None:
        return None
    new = SOLVER_TYPES[entry.value]
    if not solver.has("type"):
        value = ed.quote(new, ed.quote_of(solver))
        return SolverTypeUpgrade(
            f"solver_type: {entry.value} is deprecated; Caffe reads it as type: {new!r}",
            [ed.replace_keeping_comment_column(source, entry.node.start, entry.item.end, f"type: {value}")])
    written = solver.get("type")
    if written == new:
        return SolverTypeUpgrade(
            f"solver_type: {entry.value} repeats type: {written!r}, and Caffe refuses a solver that sets "
            "both (\"old solver_type field (enum) and new type field (string) cannot be both specified\")",
            [ed.remove_field(source, entry.node)])
    return SolverTypeUpgrade(
        f"solver_type: {entry.value} and type: {written!r} disagree, and Caffe refuses a solver that sets "
        "both; keep the one you mean", [])
