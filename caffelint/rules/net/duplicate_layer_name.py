"""NET003 duplicate-layer-name (catalogue: rules/NET003.yaml).

Caffe looks layers up by name when it copies weights from a .caffemodel or a
snapshot (Net::CopyTrainedLayersFrom) and when a test net shares the train
net's weights (Net::ShareTrainedLayersWith, BVLC/caffe:src/caffe/net.cpp): the
first layer of that name receives them.  Names only matter for layers that own
parameter blobs, so those are the ones reported.
"""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.net import Layer, NetState, NetView, scope
from caffelint.model.net_facts import is_learnable


def check_net(net: NetView, ctx: RuleContext) -> Iterator[Finding]:
    found: dict[Layer, tuple[Layer, list[NetState]]] = {}
    for graph in net.graphs():
        by_name: dict[str, list[Layer]] = {}
        for layer in graph.layers:
            by_name.setdefault(layer.name, []).append(layer)
        for same in by_name.values():
            if len(same) < 2 or not any(_owns_weights(layer) for layer in same):
                continue
            for layer in same[1:]:
                found.setdefault(layer, (same[0], []))[1].append(graph.state)
    checked = net.states()
    for layer, (first, states) in found.items():
        message = (f"layer name '{layer.name}' is already used by the {first.type or 'untyped'} layer on line "
                   f"{ctx.source.pos(first.node.start).line}{scope(states, checked)}: Caffe loads "
                   f"and shares weights by layer name, so one of the two gets both sets of "
                   f"weights and the other none")
        yield ctx.finding(layer.name_node, message, notes=[(first.name_node, "first used here")])


def _owns_weights(layer: Layer) -> bool:
    return is_learnable(layer.type) or bool(layer.lr_mults)
