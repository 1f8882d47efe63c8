"""NET001 undefined-bottom (catalogue: rules/NET001.yaml).

Caffe builds layers in file order and a bottom must name a net input or a top
of an earlier layer of the same phase (InsertSplits and AppendBottom in
BVLC/caffe:src/caffe/util/insert_splits.cpp, src/caffe/net.cpp).
"""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.edits import set_string
from caffelint.engine import RuleContext
from caffelint.findings import UNSAFE, Finding, Fix
from caffelint.model.net import Layer, NetState, NetView, PhaseGraph, scope
from caffelint.schema import suggest


def check_net(net: NetView, ctx: RuleContext) -> Iterator[Finding]:
    found: dict[tuple[Layer, int], list[PhaseGraph]] = {}
    for graph in net.graphs():
        for problem in graph.problems:
            if problem.kind == "undefined-bottom":
                found.setdefault((problem.layer, problem.index), []).append(graph)
    checked = net.states()
    for (layer, index), graphs in found.items():
        blob = layer.bottoms[index]
        states: list[NetState] = [g.state for g in graphs]
        message = f"Unknown bottom blob '{blob}' (layer '{layer.name}', bottom index {index})"
        message += scope(states, checked)
        reason, notes, fix = _explain(net, graphs[0], layer, index, ctx)
        yield ctx.finding(layer.bottom_item(index), message + reason, notes=notes, fix=fix)


def _explain(net: NetView, graph: PhaseGraph, layer: Layer, index: int, ctx: RuleContext):
    """Why the blob is missing: produced later, only in another phase, or a near miss."""
    blob = layer.bottoms[index]
    later = [other for other in graph.layers if other.index > layer.index and blob in other.tops]
    if later:
        producer = later[0]
        return (f": layer '{producer.name}' produces it later, and Caffe builds layers in file order",
                [(producer.top_item(producer.tops.index(blob)), "produced here")], None)
    active = {other.index for other in graph.layers}
    elsewhere = [other for other in net.layers if other.index not in active and blob in other.tops]
    if elsewhere:
        producer = elsewhere[0]
        return (f": layer '{producer.name}' produces it, but its include/exclude rules leave it "
                f"out of {graph.state.describe()}",
                [(producer.node, "this layer is not in the net here")], None)
    available = list(graph.inputs)
    for other in graph.layers:
        if other.index >= layer.index:
            break
        available.extend(t for t in other.tops if t not in available)
    close = suggest.close_matches(blob, available)
    if not close:
        return "", [], None
    fix = None
    if len(close) == 1:  # a guess at the blob meant: it changes what the layer reads
        edit = set_string(ctx.source, layer.bottom_item(index), close[0])
        fix = Fix(f"Read '{close[0]}'", UNSAFE, (edit,))
    return f"; did you mean {' or '.join(repr(c) for c in close)}?", [], fix
