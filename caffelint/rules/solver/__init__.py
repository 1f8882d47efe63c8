"""Solver rules, and the few queries and facts they share.

The facts (registered solver types, learning-rate policies, conventional
values) live in caffelint/data/solver_facts.yaml with their sources.
"""

from __future__ import annotations

import functools
from typing import Any

from caffelint.edits import insert_field
from caffelint.findings import Edit
from caffelint.model.net import PhaseGraph
from caffelint.model.solver import SolverView

# The fields that name the net Caffe trains (Solver::InitTrainNet: exactly one of them).
TRAIN_NET_FIELDS = ("net", "net_param", "train_net", "train_net_param")


@functools.cache
def facts() -> dict[str, Any]:
    from caffelint import facts as data

    return data.load("solver_facts.yaml")


def conventional(name: str, solver_type: str | None = None) -> Any:
    """A value BVLC's examples use (per solver type for base_lr and momentum), or None."""
    value = facts()["conventional"].get(name)
    if isinstance(value, dict):
        return value.get(solver_type)
    return value


def number(value: float | int) -> str:
    """A value as a person wrote it: 0.01, 1e-14, 100000 (no float noise, no trailing .0)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def anchor(solver: SolverView) -> Any:
    """Where a finding about a missing solver field points: the first field (or the file start)."""
    fields = solver.file.doc.fields
    return fields[0].name if fields else 0


def value_of(solver: SolverView, name: str) -> Any:
    """The value node of a written top-level field (for spans and edits)."""
    return solver.bound.entry(name).item


def train_graph(solver: SolverView) -> PhaseGraph | None:
    """The net Caffe trains: the train net filtered for the solver's train_state."""
    ref = solver.train_net
    if ref is None or ref.view is None:
        return None
    return ref.view.graph(solver.train_state)


def insert_fields(solver: SolverView, after: str | None, *lines: str) -> Edit:
    """Insert top-level `name: value` lines after the field `after` (or at the end of the file)."""
    source = solver.file.source
    entry = solver.bound.entry(after) if after else None
    return insert_field(source, solver.file.doc, "\n".join(lines), after=entry.node if entry else None)


def type_anchor(solver: SolverView) -> Any:
    """Where a finding about the solver type points: `type` or `solver_type` when written."""
    for name in ("type", "solver_type"):
        if solver.bound.has(name):
            return value_of(solver, name)
    return anchor(solver)
