"""NET004 unsafe-in-place (catalogue: rules/NET004.yaml).

A layer runs in place when top i names bottom i: its output overwrites its
input.  That is wrong when the layer still needs its input (forward or
backward), and when the layer it overwrites needs its own output in backward.
Facts per type: caffelint/data/net_facts.yaml (`in_place`).
"""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.edits import set_string
from caffelint.engine import RuleContext
from caffelint.findings import UNSAFE, Finding, Fix
from caffelint.model import layer_types
from caffelint.model.net import TRAIN, Layer, NetState, NetView, scope
from caffelint.model.net_facts import type_set


def check_net(net: NetView, ctx: RuleContext) -> Iterator[Finding]:
    found: dict[Layer, tuple[str, list, list[NetState]]] = {}
    for graph in net.graphs():
        training = graph.state.phase == TRAIN and net.is_training_net
        for layer in graph.layers:
            index = next((i for i in range(len(layer.tops)) if layer.is_in_place(i)), None)
            if index is None:
                continue
            blob = layer.tops[index]
            reason, notes = _own_problem(layer, training), []
            if reason is None and training:
                writer = graph.producer(blob, before=layer)
                if writer is not None and _reads_output(writer) and not _harmless_after(writer, layer):
                    reason = (f"it overwrites the output of '{writer.name}' ({writer.type}), whose "
                              f"backward pass reads that output: gradients through "
                              f"'{writer.name}' are wrong")
                    notes = [(writer.top_item(writer.tops.index(blob)), f"'{writer.name}' writes it here")]
            if reason is not None:
                found.setdefault(layer, (reason, notes, []))[2].append(graph.state)
    checked = net.states()
    for layer, (reason, notes, states) in found.items():
        index = next(i for i in range(len(layer.tops)) if layer.is_in_place(i))
        blob = layer.tops[index]
        message = f"'{layer.name}' ({layer.type}) runs in place on '{blob}'{scope(states, checked)}: {reason}"
        yield ctx.finding(layer.top_item(index), message, notes=notes,
                          fix=_own_top(net, layer, blob, ctx))


def _own_problem(layer: Layer, training: bool) -> str | None:
    """Why this layer cannot run in place itself, or None."""
    kind = layer.type
    if kind not in layer_types.bvlc_types() or kind in type_set("in_place", "safe"):
        return None
    if kind == "Power" and _power_is_linear(layer):
        return None
    if kind in type_set("in_place", "refused"):
        return f"Caffe refuses it: \"{kind} Layer does not allow in-place computation.\""
    if kind in type_set("in_place", "backward_reads_input"):
        if not training:
            return None
        return "its backward pass reads the input it has overwritten: wrong gradients"
    return "it computes its output from the input it is overwriting (or changes its shape): wrong outputs"


def _power_is_linear(layer: Layer) -> bool:
    """y = (shift + scale x)^power with power 0 or 1 (or scale 0) has a constant gradient."""
    power, scale = layer.get("power_param.power"), layer.get("power_param.scale")
    return power in (0, 1) or scale == 0


def _reads_output(writer: Layer) -> bool:
    """The writer's backward pass reads its own top data (conditions from the layer sources)."""
    kind = writer.type
    if kind not in type_set("in_place", "backward_reads_output"):
        return False
    if kind == "Pooling":  # cuDNN max pooling (the default engine of cuDNN builds) passes y to cuDNN
        return (writer.get("pooling_param.pool") == "MAX" and writer.get("pooling_param.engine") != "CAFFE"
                and len(writer.tops) == 1)
    if kind == "Eltwise":
        return writer.get("eltwise_param.operation") == "PROD"
    if kind == "Power":
        return not _power_is_linear(writer) and writer.get("power_param.power") != 2
    if kind == "MVN":
        return writer.get("mvn_param.normalize_variance")
    return True


def _harmless_after(writer: Layer, successor: Layer) -> bool:
    """ReLU only changes outputs whose gradient it zeroes; Dropout keeps ReLU's sign pattern."""
    if successor.type == "ReLU" and successor.get("relu_param.negative_slope") == 0:
        return writer.type in type_set("in_place", "relu_after_is_safe")
    if successor.type == "Dropout":
        return writer.type in type_set("in_place", "dropout_after_is_safe")
    return False


def _own_top(net: NetView, layer: Layer, blob: str, ctx: RuleContext) -> Fix | None:
    """Give `layer` a top of its own and make the later readers of its output read that."""
    taken = {b for other in net.layers for b in other.tops + other.bottoms}
    new = layer.name if layer.name and layer.name not in taken else f"{blob}_{layer.name or 'out'}"
    if new in taken:
        return None
    edits = [set_string(ctx.source, layer.top_item(i), new) for i, top in enumerate(layer.tops) if top == blob]
    for later in net.layers[layer.index + 1:]:
        for i, bottom in enumerate(later.bottoms):
            if bottom == blob:
                edits.append(set_string(ctx.source, later.bottom_item(i), new))
        rewrites = [i for i, top in enumerate(later.tops) if top == blob]
        if any(not later.is_in_place(i) for i in rewrites):
            break  # a new producer of the name: readers after it mean that one
        edits.extend(set_string(ctx.source, later.top_item(i), new) for i in rewrites)
    return Fix(f"Give '{layer.name}' its own top '{new}'", UNSAFE, tuple(edits))
