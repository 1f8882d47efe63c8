"""NET006 no-loss-layer (catalogue: rules/NET006.yaml).

The solver minimises the sum of every top's loss weight times its value
(Net::ForwardBackward); with nothing weighted, backward carries no gradient.
"""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.net import TRAIN, NetView, PhaseGraph


def check_net(net: NetView, ctx: RuleContext) -> Iterator[Finding]:
    if not net.is_training_net:
        return
    for graph in net.graphs():
        if graph.state.phase != TRAIN or not graph.layers:
            continue
        losses = [layer for layer in graph.layers if layer.type.endswith("Loss") or layer.loss_weights]
        if any(w != 0 for layer in losses for w in layer.top_loss_weights):
            continue
        where = net.bound.entry("name").item if net.bound.has("name") else graph.layers[0].node
        if losses:
            names = ", ".join(f"'{layer.name}'" for layer in losses)
            detail = f"every loss ({names}) has loss_weight 0"
        else:
            detail = "it has no loss layer and no top with a loss_weight"
        yield ctx.finding(where, f"{_state(graph)} has nothing to minimise: {detail}; the solver "
                                 f"computes no gradient and only weight decay changes the weights")


def _state(graph: PhaseGraph) -> str:
    return f"the {graph.state.describe()} net"
