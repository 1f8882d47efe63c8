"""NET002 duplicate-top (catalogue: rules/NET002.yaml).

Caffe lets a layer write a blob that already exists only in place: top i must
name bottom i of the same layer (AppendTop in BVLC/caffe:src/caffe/net.cpp).
Split layers inserted for a blob read more than once rename the bottoms, so an
"in-place" reader of a shared blob becomes a second producer too.
"""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.engine import RuleContext
from caffelint.findings import Finding
from caffelint.model.net import Layer, NetState, NetView, scope


def check_net(net: NetView, ctx: RuleContext) -> Iterator[Finding]:
    found: dict[tuple[Layer, int], tuple[str, list, list[NetState]]] = {}
    for graph in net.graphs():
        for problem in graph.problems:
            if problem.kind == "duplicate-top":
                key = (problem.layer, problem.index)
                reason, notes = _plain(problem.layer, problem.index, problem.other)
                found.setdefault(key, (reason, notes, []))[2].append(graph.state)
        for layer, index, writer, others in graph.split_in_place():
            key = (layer, index)
            reason, notes = _split(layer, index, writer, others)
            found.setdefault(key, (reason, notes, []))[2].append(graph.state)
    checked = net.states()
    for (layer, index), (reason, notes, states) in found.items():
        blob = layer.tops[index]
        message = f"Top blob '{blob}' produced by multiple sources{scope(states, checked)}: {reason}"
        yield ctx.finding(layer.top_item(index), message, notes=notes)


def _plain(layer: Layer, index: int, other: Layer | None) -> tuple[str, list]:
    blob = layer.tops[index]
    notes = []
    if other is not None and blob in other.tops:
        notes.append((other.top_item(other.tops.index(blob)), f"'{blob}' first produced here"))
    first = f"layer '{other.name}'" if other is not None else "the net input"
    reason = f"{first} already produces it and layer '{layer.name}' writes it again"
    if blob in layer.bottoms:  # meant in place, but at another position
        reason += (f"; it is bottom {layer.bottoms.index(blob)} but top {index}, and Caffe only "
                   f"computes in place when top i names bottom i")
    return reason, notes


def _split(layer: Layer, index: int, writer: Layer | None, others: list[Layer]) -> tuple[str, list]:
    blob = layer.tops[index]
    source = f"layer '{writer.name}'" if writer is not None else "the net input"
    readers = ", ".join(f"'{other.name}'" for other in dict.fromkeys(others)) or "a loss_weight"
    reason = (f"'{layer.name}' means to run in place, but '{blob}' from {source} is also read by "
              f"{readers}, so Caffe inserts a Split layer and '{layer.name}' reads a copy; "
              f"give '{layer.name}' a top of its own")
    notes = [(other.bottom_item(other.bottoms.index(blob)), f"'{blob}' also read here")
             for other in dict.fromkeys(others) if blob in other.bottoms]
    return reason, notes
