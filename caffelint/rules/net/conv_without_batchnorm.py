"""BN004 conv-without-batchnorm (catalogue: rules/BN004.yaml).

Deep plain stacks of convolutions train badly from random initialisation
(VGG's 16- and 19-layer nets were initialised from a trained 11-layer one,
Simonyan & Zisserman 2014, sec. 3.1); BatchNorm after each convolution is the
usual cure (Ioffe & Szegedy 2015).  Depth = convolutions on the longest path.
"""

from __future__ import annotations

from collections.abc import Iterator

from caffelint.edits import insert_layer_after, quote, quote_of
from caffelint.engine import RuleContext
from caffelint.findings import UNSAFE, Finding, Fix
from caffelint.model.net import TRAIN, Layer, NetView, PhaseGraph

CONVOLUTIONS = {"Convolution", "ConvolutionDepthwise", "DepthwiseConvolution"}
NORMALIZERS = {"BatchNorm", "BN", "MVN"}
WEIGHTED = CONVOLUTIONS | {"InnerProduct", "Deconvolution", "Embed"}


def check_net(net: NetView, ctx: RuleContext) -> Iterator[Finding]:
    if not net.is_training_net:
        return
    graph = next((g for g in net.graphs() if g.state.phase == TRAIN), None)
    if graph is None:
        return
    depth = max(graph.depths(lambda layer: layer.type in CONVOLUTIONS).values(), default=0)
    if depth < ctx.options["min_depth"]:
        return
    bare = [conv for conv in graph.layers if conv.type in CONVOLUTIONS and conv.tops
            and not _normalized(graph, conv) and not _feeds_loss(graph, conv)]
    if not bare:
        return
    names = {layer.name for layer in net.layers}
    edits = tuple(insert_layer_after(ctx.source, conv.node, _snippet(conv, names)) for conv in bare)
    listed = ", ".join(f"'{conv.name}'" for conv in bare[:5]) + (" ..." if len(bare) > 5 else "")
    yield ctx.finding(
        bare[0].name_node,
        f"{_count(len(bare), 'convolution')} without BatchNorm ({listed}) in a net {depth} convolutions deep: deep "
        f"plain stacks are slow or unable to train from random weights",
        notes=[(conv.name_node, "no BatchNorm after this convolution") for conv in bare[1:6]],
        fix=Fix(f"Insert BatchNorm and Scale after {_count(len(bare), 'convolution')}", UNSAFE, edits))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _normalized(graph: PhaseGraph, conv: Layer) -> bool:
    """A normaliser follows before the next weighted layer (conv, ReLU, BatchNorm; or after a
    Concat or Pooling), or the next layer is a convolution (a factorised 3x1 + 1x3 pair)."""
    first = graph.readers(conv, conv.tops[0])
    if any(r.type in CONVOLUTIONS for r in first):
        return True
    return any(r.type in NORMALIZERS for r in graph.downstream(conv, conv.tops[0], _weightless))


def _feeds_loss(graph: PhaseGraph, conv: Layer) -> bool:
    """A classifier convolution (FCN's score layers, SqueezeNet's conv10): its output reaches a
    loss through weightless layers only; BatchNorm does not belong there."""
    return any(r.type.endswith("Loss") for r in graph.downstream(conv, conv.tops[0], _weightless))


def _weightless(layer: Layer) -> bool:
    return layer.type not in WEIGHTED


def _snippet(conv: Layer, names: set[str]) -> str:
    q = quote_of(conv.bound)
    top = quote(conv.tops[0], q)
    bn, scale = _fresh(f"{conv.name}_bn", names), _fresh(f"{conv.name}_scale", names)
    return (f"layer {{\n  name: {quote(bn, q)}\n  type: {quote('BatchNorm', q)}\n  bottom: {top}\n  top: {top}\n}}\n"
            f"layer {{\n  name: {quote(scale, q)}\n  type: {quote('Scale', q)}\n  bottom: {top}\n  top: {top}\n"
            f"  scale_param {{\n    bias_term: true\n  }}\n}}")


def _fresh(name: str, names: set[str]) -> str:
    candidate, i = name, 2
    while candidate in names:
        candidate, i = f"{name}{i}", i + 1
    names.add(candidate)
    return candidate
