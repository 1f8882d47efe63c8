"""SLV013 clip-gradients-recurrent (catalogue: rules/SLV013.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import UNSAFE, Finding, Fix
from caffelint.model.solver import SolverView
from caffelint.rules.solver import anchor, conventional, insert_fields, number, train_graph

RECURRENT = ("LSTM", "RNN", "LSTMUnit")


def check_solver(solver: SolverView, ctx: RuleContext) -> Iterator[Finding]:
    graph = train_graph(solver)
    if graph is None or solver.bound.get("clip_gradients") >= 0:
        return
    recurrent = list(graph.layers_of_type(*RECURRENT))
    if not recurrent:
        return
    value = number(conventional("clip_gradients"))
    after = next((n for n in ("weight_decay", "momentum", "base_lr") if solver.bound.has(n)), None)
    first = recurrent[0]
    yield ctx.finding(anchor(solver), f"the train net has recurrent layers ({first.type} {first.name!r}"
                      + (f" and {len(recurrent) - 1} more" if len(recurrent) > 1 else "")
                      + ") but clip_gradients is not set: gradients through time can explode "
                      f"(BVLC's LSTM captioning example clips at {value})",
                      fix=Fix(f"Add clip_gradients: {value}", UNSAFE,
                              (insert_fields(solver, after, f"clip_gradients: {value}"),)))
