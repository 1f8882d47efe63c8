"""INI001 missing-weight-filler (catalogue: rules/INI001.yaml).

FillerParameter defaults to type "constant" with value 0 (caffe.proto), and
Convolution, Deconvolution, InnerProduct and Embed fill their weights with
`weight_filler` as given (base_conv_layer.cpp, inner_product_layer.cpp,
embed_layer.cpp in BVLC/caffe:src/caffe/layers/): no filler, all-zero weights.
"""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.edits import insert_field, quote, quote_of, set_string
from caffelint.engine import RuleContext
from caffelint.findings import UNSAFE, Finding, Fix
from caffelint.model.net import TRAIN, Layer, NetView, PhaseGraph
from caffelint.model.net_facts import type_set

PARAMS = {"Convolution": "convolution_param", "Deconvolution": "convolution_param",
          "InnerProduct": "inner_product_param", "Embed": "embed_param"}
RECTIFIERS = {"ReLU", "PReLU"}


def check_net(net: NetView, ctx: RuleContext) -> Iterator[Finding]:
    if not net.is_training_net or _weights_loaded(net):
        return
    zero: list[tuple[Layer, object, object, str]] = []  # layer, its *_param, its filler, the filler to use
    seen: set[Layer] = set()
    shared: set[str] = set()  # param names already owned by an earlier layer
    for graph in net.graphs():
        if graph.state.phase != TRAIN:
            continue
        for layer in graph.layers_of_type(*type_set("weight_filled")):
            if layer in seen or layer.version == 0:
                continue
            seen.add(layer)
            name = _weight_param_name(layer)
            if name and name in shared:
                continue  # shares the weights of an earlier layer, which fills them
            if name:
                shared.add(name)
            param = layer.param(PARAMS[layer.type])
            filler = param.msg("weight_filler") if param is not None else None
            if param is None or _fills(filler) or _frozen_weights(layer):
                continue
            zero.append((layer, param, filler, "msra" if _rectified(graph, layer) else "xavier"))
    if not zero:
        return
    first, _, filler, _ = zero[0]
    if len(zero) == 1:
        how = "has no weight_filler" if filler is None else "has a constant weight_filler of 0"
        subject, its, them = f"{first.type} '{first.name}' {how}", "its", "it"
    else:
        names = ", ".join(f"'{layer.name}'" for layer, *_ in zero[:4]) + (" ..." if len(zero) > 4 else "")
        subject = f"{len(zero)} layers ({names}) have no weight_filler (or a constant 0 one)"
        its, them = "their", "them"
    yield ctx.finding(
        filler.node if filler is not None else first.name_node,
        f"{subject}: Caffe starts {its} weights at 0, so all filters of a layer compute and learn the "
        f"same thing; fine only if --weights loads {them} (fine-tuning)",
        notes=[(layer.name_node, "no weight_filler") for layer, *_ in zero[1:6]],
        fix=Fix(f"Add msra (before ReLU) or xavier weight fillers to {len(zero)} "
                f"layer{'s' if len(zero) > 1 else ''}", UNSAFE,
                tuple(_edit(ctx, param, filler, kind) for _, param, filler, kind in zero)))


def _fills(filler) -> bool:
    """A filler that does not give all-zero weights."""
    if filler is None:
        return False
    return filler.get("type") != "constant" or filler.get("value") != 0


def _frozen_weights(layer: Layer) -> bool:
    mults = layer.lr_mults
    return bool(mults) and mults[0] == 0  # never trained: weights come from a .caffemodel (or stay)


def _weight_param_name(layer: Layer) -> str:
    if layer.version == 2 and layer.bound.has("param"):
        return layer.bound.entries_of("param")[0].value.get("name")
    if layer.version == 1 and layer.bound.has("param"):
        return layer.bound.all("param")[0]
    return ""


def _weights_loaded(net: NetView) -> bool:
    """A solver that trains this net names a .caffemodel to start from (`weights:`)."""
    return any(s.train_net is not None and s.train_net.view is net and s.bound.all("weights")
               for s in net.solvers)


def _rectified(graph: PhaseGraph, layer: Layer) -> bool:
    return bool(layer.tops) and any(r.type in RECTIFIERS for r in graph.readers(layer, layer.tops[0]))


def _edit(ctx: RuleContext, param, filler, kind: str):
    q = quote_of(param)
    if filler is None:
        return insert_field(ctx.source, param, f"weight_filler {{\n  type: {quote(kind, q)}\n}}")
    if filler.has("type"):
        return set_string(ctx.source, filler.entry("type").item, kind)
    return insert_field(ctx.source, filler, f"type: {quote(kind, q)}")
