"""SLV014 unknown-solver-type (catalogue: rules/SLV014.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.edits import set_string
from caffelint.engine import RuleContext
from caffelint.findings import SAFE, UNSAFE, Finding, Fix
from caffelint.model.solver import SolverView
from caffelint.rules.solver import facts, value_of
from caffelint.schema.suggest import close_matches


def check_solver(solver: SolverView, ctx: RuleContext) -> Iterator[Finding]:
    if not solver.bound.has("type"):
        return  # the default "SGD", or the solver_type enum, which the schema already restricts
    written = solver.bound.get("type")
    known = list(facts()["types"]) + list(ctx.options["extra_types"])
    if written in known:
        return
    where = value_of(solver, "type")
    fix = None
    close = close_matches(written, known)
    if len(close) == 1:
        # A difference of letter case only is surely meant (the registry is case-sensitive).
        kind = SAFE if close[0].lower() == written.lower() else UNSAFE
        fix = Fix(f"Set type: {close[0]!r}", kind, (set_string(solver.file.source, where, close[0]),))
    yield ctx.finding(where, f"type {written!r} is not a solver Caffe registers ({', '.join(known)}): Caffe "
                      f"stops at start with \"Unknown solver type: {written}\"", fix=fix)
