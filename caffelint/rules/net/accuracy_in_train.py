"""NET011 accuracy-in-train (catalogue: rules/NET011.yaml).

An Accuracy layer without phase rules is part of the TRAIN net too: it runs
every iteration and its output joins the "Train net output" lines.
"""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.edits import insert_field
from caffelint.engine import RuleContext
from caffelint.findings import SAFE, Finding, Fix
from caffelint.model.net import TRAIN, Layer, NetView


def check_net(net: NetView, ctx: RuleContext) -> Iterator[Finding]:
    if not net.is_training_net:
        return
    reported: set[Layer] = set()
    for graph in net.graphs():
        if graph.state.phase != TRAIN:
            continue
        for layer in graph.layers_of_type("Accuracy"):
            if layer in reported:
                continue
            reported.add(layer)
            fix = None
            if not layer.include and not layer.exclude and layer.version == 2:
                edit = insert_field(ctx.source, layer.bound, "include {\n  phase: TEST\n}")
                fix = Fix("Compute it in TEST only", SAFE, (edit,))
            yield ctx.finding(
                layer.name_node,
                f"Accuracy '{layer.name}' is computed in {graph.state.describe()} too: on the training "
                f"batch, every iteration; keep it if you compare train and test accuracy, else add "
                f"include {{ phase: TEST }}", fix=fix)
