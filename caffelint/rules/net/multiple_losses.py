"""NET007 multiple-losses (catalogue: rules/NET007.yaml).

Caffe's reported training loss is the sum of each loss top times its
loss_weight (Net::ForwardBackward; the "Train net output ... (* w = ... loss)"
lines of BVLC/caffe:src/caffe/solver.cpp), so each term's share is set by its weight.
"""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.net import TRAIN, Layer, NetView


def check_net(net: NetView, ctx: RuleContext) -> Iterator[Finding]:
    if not net.is_training_net:
        return
    seen: set[tuple[int, ...]] = set()
    for graph in net.graphs():
        if graph.state.phase != TRAIN:
            continue
        terms = [(layer, _top(layer, i), w) for layer in graph.layers
                 for i, w in enumerate(layer.top_loss_weights) if w != 0]
        key = tuple(layer.index for layer, _, _ in terms)
        if len(terms) < 2 or key in seen:
            continue
        seen.add(key)
        listing = " + ".join(f"{_number(w)} × {_term(layer, top)}" for layer, top, w in terms)
        message = f"the training loss Caffe reports is the weighted sum {listing}"
        where = terms[0][0]
        dominating = _dominating_auxiliary(graph, terms)
        if dominating is not None:
            (where, weight), (main, main_weight) = dominating
            message += (f"; auxiliary loss '{where.name}', attached earlier in the net, weighs "
                        f"{_number(weight)}, more than the final loss '{main.name}' "
                        f"({_number(main_weight)}), so it steers training")
        notes = [(layer.node, f"loss term {top} × {_number(w)}") for layer, top, w in terms if layer is not where]
        yield ctx.finding(where.name_node, message, notes=notes)


def _dominating_auxiliary(graph, terms):
    """An auxiliary loss (one attached closer to the data than the deepest loss, like
    GoogLeNet's side heads) weighted more than the deepest loss, or None."""
    depth = graph.depths()
    deepest = max(depth[layer] for layer, _, _ in terms)
    finals = [(layer, w) for layer, _, w in terms if depth[layer] == deepest]
    main_weight = max(abs(w) for _, w in finals)
    for layer, _, w in terms:
        if depth[layer] < deepest and abs(w) > main_weight:
            return (layer, w), finals[0]
    return None


def _top(layer: Layer, index: int) -> str:
    return layer.tops[index] if index < len(layer.tops) else layer.name


def _term(layer: Layer, top: str) -> str:
    return f"'{top}'" if top == layer.name else f"'{top}' (layer '{layer.name}')"


def _number(value: float) -> str:
    return f"{value:g}"
